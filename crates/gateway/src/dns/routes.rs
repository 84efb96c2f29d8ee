use std::collections::HashMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::normalize_domain;

/// Where to send one domain's mail instead of asking DNS (`[delivery.routes]`).
///
/// The connection goes to `address`, but everything else behaves as if DNS had named
/// `mx` as the domain's only mail exchanger: the certificate is checked against `mx`,
/// TLSA records are looked up at `_25._tcp.<mx>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The MX host name the certificate must match.
    pub mx: String,
    /// The socket address to connect to.
    pub address: SocketAddr,
}

/// Operator routes, keyed by recipient domain (case-insensitive). Deserializes from the
/// `[delivery.routes]` table: `"dest.test" = { mx = "mx.dest.test", address = "127.0.0.1:2626" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "HashMap<String, Route>", into = "HashMap<String, Route>")]
pub struct Routes {
    routes: HashMap<String, Route>,
}

impl Routes {
    /// No routes: every domain goes through DNS.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Adds (or replaces) the route for `domain`.
    pub fn insert(&mut self, domain: &str, route: Route) {
        let route = Route {
            mx: normalize_domain(&route.mx),
            address: route.address,
        };
        self.routes.insert(normalize_domain(domain), route);
    }

    /// Builder form of [`Routes::insert`].
    pub fn with(mut self, domain: &str, mx: &str, address: SocketAddr) -> Routes {
        self.insert(
            domain,
            Route {
                mx: mx.into(),
                address,
            },
        );
        self
    }

    /// The route for `domain`, if one is configured.
    pub fn get(&self, domain: &str) -> Option<&Route> {
        self.routes.get(&normalize_domain(domain))
    }

    /// Whether no routes are configured.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

impl From<HashMap<String, Route>> for Routes {
    fn from(map: HashMap<String, Route>) -> Routes {
        map.into_iter().collect()
    }
}

impl From<Routes> for HashMap<String, Route> {
    fn from(routes: Routes) -> HashMap<String, Route> {
        routes.routes
    }
}

impl FromIterator<(String, Route)> for Routes {
    fn from_iter<I: IntoIterator<Item = (String, Route)>>(iter: I) -> Routes {
        let mut routes = Routes::new();
        for (domain, route) in iter {
            routes.insert(&domain, route);
        }
        routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_deserialize_from_the_config_table_and_ignore_case() {
        let json = r#"{"Dest.Test": {"mx": "MX.dest.test", "address": "127.0.0.1:2626"}}"#;
        let routes: Routes = serde_json::from_str(json).unwrap();
        let route = routes.get("dest.test.").unwrap();
        assert_eq!(route.mx, "mx.dest.test");
        assert_eq!(route.address.port(), 2626);
        assert!(serde_json::from_str::<Routes>(r#"{"a": {"mx": "m", "address": "x"}}"#).is_err());
    }
}
