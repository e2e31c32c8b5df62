-- How people call a session's image when its reference is not for
-- reading: `Customized<name>` for a session of a customized image (whose
-- reference is `customized/<owner>/<id>:latest`). NULL for the others.
ALTER TABLE sessions ADD COLUMN image_name TEXT;
