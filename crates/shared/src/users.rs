//! Admin user management.

use serde::{Deserialize, Serialize};

use crate::auth::{Role, UserInfo};
use crate::validate::{self, Errors};
use crate::FieldError;

/// `POST /api/v1/users` (admin) and `berth user create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Email address, unique (case-insensitive).
    #[serde(default)]
    pub email: String,
    /// Initial password.
    #[serde(default)]
    pub password: String,
    /// Full name (optional).
    #[serde(default)]
    pub full_name: String,
    /// Role; `user` when absent.
    #[serde(default)]
    pub role: Role,
    /// Projects to join; the `default` project when empty.
    #[serde(default)]
    pub projects: Vec<String>,
}

impl CreateUserRequest {
    /// The new-user form's rules.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("email", validate::email(&self.email));
        errs.check("password", validate::new_password(&self.password));
        errs.check(
            "full_name",
            validate::max_chars(&self.full_name, validate::FULL_NAME_MAX_CHARS),
        );
        for (i, p) in self.projects.iter().enumerate() {
            errs.check(&format!("projects[{i}]"), validate::required(p));
        }
        errs.finish()
    }
}

/// `PATCH /api/v1/users/{id}` (admin): only the given fields change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Enable or disable the account. A disabled account cannot sign in, and
    /// its logins and tokens stop working at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Bind the user's keypair to this resource policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
}

impl UpdateUserRequest {
    /// The edit form's rules.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        if let Some(name) = &self.full_name {
            errs.check(
                "full_name",
                validate::max_chars(name, validate::FULL_NAME_MAX_CHARS),
            );
        }
        errs.finish()
    }
}

/// `GET /api/v1/users[?email=]` (admin). With `email`, the list holds the one
/// matching user or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    /// Users, oldest first.
    pub items: Vec<UserInfo>,
}

/// Query of `GET /api/v1/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Exact email address to look up (case-insensitive).
    #[serde(default)]
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_user_rules() {
        let req = CreateUserRequest {
            email: "bad".into(),
            password: "short".into(),
            full_name: "n".repeat(200),
            role: Role::User,
            projects: vec!["".into()],
        };
        let fields: Vec<_> = req
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["email", "password", "full_name", "projects[0]"]);
    }

    #[test]
    fn role_defaults_to_user() {
        let req: CreateUserRequest =
            serde_json::from_str(r#"{"email":"a@b.io","password":"12345678"}"#).unwrap();
        assert_eq!(req.role, Role::User);
        assert_eq!(req.validate(), Ok(()));
    }
}
