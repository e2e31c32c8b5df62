//! `GET /healthz`.

use serde::{Deserialize, Serialize};

/// Overall health and that of each dependency. The server keeps serving when
/// the Docker engine is down; it says so here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when everything answers, `degraded` when the engine does not,
    /// `unavailable` when the database does not.
    pub status: String,
    /// Server version.
    pub version: String,
    /// The database.
    pub database: ComponentHealth,
    /// The Docker engine of the local agent.
    pub docker: DockerHealth,
    /// Whether this replica holds the scheduler's lease (runs the
    /// scheduler, reconciliation and idle checks); admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<bool>,
}

/// Whether one dependency answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentHealth {
    /// It answered.
    pub ok: bool,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether the Docker engine answers, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DockerHealth {
    /// It answered.
    pub ok: bool,
    /// The API version negotiated with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The engine's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Health {
    /// What anyone may see: the verdicts, without error texts or versions
    /// (they name hosts, paths and software an attacker would like to know).
    pub fn public(self) -> Health {
        Health {
            status: self.status,
            version: self.version,
            database: ComponentHealth {
                ok: self.database.ok,
                error: None,
            },
            docker: DockerHealth {
                ok: self.docker.ok,
                api_version: None,
                engine_version: None,
                error: None,
            },
            scheduler: None,
        }
    }
}

/// Query of `GET /healthz`: `?deep` (admins) probes every dependency now
/// instead of reporting the engine's latest probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct HealthQuery {
    /// Present (any value): probe now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep: Option<String>,
}
