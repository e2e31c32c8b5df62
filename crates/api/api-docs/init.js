// Renders /api/v1/openapi.json. "Try it out" sends the page's own login
// cookie (same origin), so a signed-in user can call the API from here.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#api-docs",
  deepLinking: true,
  withCredentials: true,
});
