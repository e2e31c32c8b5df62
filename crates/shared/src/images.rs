//! Customized images: a running session saved as an image that only its
//! owner sees and launches. Mounted folders and `/home/work` are not in it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{Errors, Invalid};
use crate::FieldError;

/// Shortest image name.
pub const IMAGE_NAME_MIN: usize = 4;
/// Longest image name.
pub const IMAGE_NAME_MAX: usize = 32;
/// Customized images per user unless the policy says otherwise.
pub const DEFAULT_MAX_CUSTOMIZED_IMAGES: u32 = 3;

/// The image-name rule: 4–32 letters, digits, `-` and `_`.
pub fn image_name(name: &str) -> Result<(), Invalid> {
    let n = name.chars().count();
    if n < IMAGE_NAME_MIN {
        return Err(Invalid::new(
            "too_short",
            format!("An image name has at least {IMAGE_NAME_MIN} characters."),
        ));
    }
    if n > IMAGE_NAME_MAX {
        return Err(Invalid::new(
            "too_long",
            format!("An image name has at most {IMAGE_NAME_MAX} characters."),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Invalid::new(
            "invalid_image_name",
            "Use letters, digits, - and _ only.",
        ));
    }
    Ok(())
}

/// How every customized image's reference starts
/// (`customized/<owner>/<id>:latest`).
pub const CUSTOMIZED_PREFIX: &str = "customized/";

/// How the launcher names a customized image.
pub fn display_name(name: &str) -> String {
    format!("Customized<{name}>")
}

/// `POST /api/v1/sessions/{id}/commit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// The image's name.
    #[serde(default)]
    pub name: String,
}

impl CommitRequest {
    /// The name rule.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", image_name(&self.name));
        errs.finish()
    }
}

/// A commit in progress (`SessionInfo::commit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitProgress {
    /// The image's name.
    pub name: String,
    /// When it began.
    pub started_at: DateTime<Utc>,
}

/// How a commit ended (`SessionEvent::commit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitOutcome {
    /// The image's name.
    pub name: String,
    /// The new image's reference, when it was made.
    pub reference: Option<String>,
    /// Why it was not.
    pub error: Option<String>,
}

/// One customized image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomizedImage {
    /// Its id (the last part of its reference).
    pub id: String,
    /// The name its owner gave it.
    pub name: String,
    /// The full reference to launch (`customized/…:latest`).
    pub reference: String,
    /// The image the session ran.
    pub from_image: String,
    /// The session it was made from.
    pub from_session: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/customized-images`: the caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomizedImageList {
    /// Newest first.
    pub items: Vec<CustomizedImage>,
    /// How many the caller may have (0 = no limit).
    pub max: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        assert!(image_name("my-env_2").is_ok());
        assert_eq!(image_name("abc").unwrap_err().code, "too_short");
        assert_eq!(image_name(&"a".repeat(33)).unwrap_err().code, "too_long");
        assert_eq!(image_name("my env").unwrap_err().code, "invalid_image_name");
        assert_eq!(
            image_name("bad.name").unwrap_err().code,
            "invalid_image_name"
        );
        assert_eq!(display_name("torch"), "Customized<torch>");
    }
}

/// `POST /api/v1/resource-groups/{name}/pre-pulls`: have every agent of a
/// resource group fetch an environment image before a session needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrePullRequest {
    /// The environment's image reference (`name:tag`).
    #[serde(default)]
    pub image: String,
}

impl PrePullRequest {
    /// Field errors: the image is named, as a reference the engine takes.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check(
            "image",
            if self.image.trim().is_empty() {
                Err(Invalid::new(
                    "required",
                    "Choose the environment to pre-pull.",
                ))
            } else {
                crate::sessions::limits::image_reference(self.image.trim())
            },
        );
        errs.finish()
    }
}

/// Where one agent is in a pre-pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrePullState {
    /// Not started yet.
    Waiting,
    /// Layers or bytes are arriving.
    Pulling,
    /// It had the image already.
    Present,
    /// It has the image now.
    Done,
    /// It could not get it (`error` says why).
    Failed,
}

impl PrePullState {
    /// Whether this agent's part is over.
    pub fn is_over(self) -> bool {
        matches!(self, Self::Present | Self::Done | Self::Failed)
    }
}

/// One agent's part of a pre-pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrePullAgent {
    /// The agent.
    pub agent: String,
    /// Where it is.
    pub state: PrePullState,
    /// Where the image comes from: `registry`, or the agent it is copied
    /// from.
    #[serde(default)]
    pub source: Option<String>,
    /// Bytes arrived so far.
    #[serde(default)]
    pub bytes: u64,
    /// Bytes in all (0 while unknown).
    #[serde(default)]
    pub total: u64,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// A pre-pull of an image to a resource group's agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrePull {
    /// Its id.
    pub id: String,
    /// The resource group.
    pub group: String,
    /// The image.
    pub image: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Each agent of the group (as it was when the pre-pull started).
    pub agents: Vec<PrePullAgent>,
}

impl PrePull {
    /// Whether every agent's part is over.
    pub fn is_over(&self) -> bool {
        self.agents.iter().all(|a| a.state.is_over())
    }
}

/// `GET /api/v1/resource-groups/{name}/pre-pulls`: the group's recent
/// pre-pulls, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrePullList {
    /// The pre-pulls.
    pub items: Vec<PrePull>,
}
