//! The image a create names: `image`, or `environment:version`, which must
//! be on the engine and listed (or allowed by hand), and not another
//! user's customized image.

use super::*;

/// The image a request names, and the field that named it (for errors).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ImageRef {
    pub(super) reference: String,
    pub(super) field: &'static str,
}

/// `image`, or `environment:version` (`latest` when no version).
pub(super) fn image_reference(req: &CreateSessionRequest) -> SessionResult<ImageRef> {
    match (&req.image, &req.environment) {
        (Some(img), _) => Ok(ImageRef {
            reference: img.trim().to_string(),
            field: "image",
        }),
        (None, Some(env)) => {
            let version = req
                .version
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or("latest");
            Ok(ImageRef {
                reference: format!("{}:{version}", env.trim()),
                field: "environment",
            })
        }
        (None, None) => Err(invalid(
            "environment",
            "required",
            "Choose an environment (or give an image).",
        )),
    }
}

/// The image's labels: it must be on the engine, be a listed environment
/// unless manual image names are allowed, and not be another user's
/// customized image (which reads as absent).
pub(super) async fn image_labels(
    svc: &Services,
    image: &ImageRef,
    owner_id: &str,
) -> SessionResult<ImageLabels> {
    let labels = match environments::labels_of(svc, &image.reference).await {
        Ok(l) if !l.usable_by(owner_id) => {
            return Err(invalid(
                image.field,
                "image_not_found",
                format!("There is no image {} on the agents.", image.reference),
            ))
        }
        Ok(l) => l,
        Err(RuntimeError::ImageNotFound(_)) => {
            return Err(invalid(
                image.field,
                "image_not_found",
                format!("There is no image {} on the agents.", image.reference),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if !labels.is_environment && !svc.config().allow_manual_image {
        return Err(invalid(
            image.field,
            "not_an_environment",
            format!(
                "{} is not a listed environment, and manual image names are turned off.",
                image.reference
            ),
        ));
    }
    Ok(labels)
}
