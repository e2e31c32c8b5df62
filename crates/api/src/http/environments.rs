//! `GET /api/v1/environments`: images on the engine labelled as
//! environments, grouped by name with their tags as versions.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use berth_shared::bytes::ByteSize;
use berth_shared::resources::{
    parse_service_ports, Environment, EnvironmentList, EnvironmentVersion,
};

use super::error::ApiResult;
use super::extract::AuthUser;
use super::json::ApiJson;
use super::ApiContext;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new().route("/environments", get(list))
}

async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(_): AuthUser,
) -> ApiResult<ApiJson<EnvironmentList>> {
    let images = ctx.runtime().environment_images().await?;
    let mut by_name: BTreeMap<String, Environment> = BTreeMap::new();
    for img in images {
        let label = |k: &str| img.labels.get(k).cloned();
        for tag in &img.tags {
            let Some((name, version)) = tag.rsplit_once(':') else {
                continue;
            };
            let env = by_name
                .entry(name.to_string())
                .or_insert_with(|| Environment {
                    name: name.to_string(),
                    display_name: label("ai.backend.display-name")
                        .unwrap_or_else(|| name.to_string()),
                    versions: vec![],
                });
            env.versions.push(EnvironmentVersion {
                version: version.to_string(),
                image: tag.clone(),
                service_ports: label("ai.backend.service-ports")
                    .map(|l| parse_service_ports(&l))
                    .unwrap_or_default(),
                min_cpu: label("ai.backend.resource.min.cpu")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0),
                min_mem: label("ai.backend.resource.min.mem")
                    .and_then(|v| ByteSize::parse(&v))
                    .unwrap_or_default(),
            });
        }
    }
    let items = by_name
        .into_values()
        .map(|mut e| {
            e.versions.sort_by(|a, b| b.version.cmp(&a.version));
            e
        })
        .collect();
    Ok(ApiJson(EnvironmentList {
        items,
        allow_manual_image: ctx.config().allow_manual_image,
    }))
}
