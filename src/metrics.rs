//! What the service counts, in a `prometheus-client` registry served on the admin listener:
//! requests by route and status, latency by route, lookups by match kind, reloads by outcome
//! and the data generation.
//!
//! The registry is owned by the running server (no global recorder), so tests that start
//! several servers in one process see only their own counts.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::locate::MatchKind;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 10] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: &'static str,
}

/// One route's metric handles: its latency histogram and a lazily registered counter per
/// status code (100–599), so recording is an atomic add and a histogram update.
struct RouteHandles {
    key: (usize, usize),
    route: &'static str,
    latency: Histogram,
    statuses: Box<[OnceLock<Counter>]>,
}

/// A single label, `name="value"`.
type OneLabel = [(&'static str, &'static str); 1];

type HistogramFamily = Family<RouteLabel, Histogram, fn() -> Histogram>;

/// The server's metrics and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: HistogramFamily,
    /// Per route template, the handles to count into, found without hashing the route: by
    /// the address of the template string (axum keeps one per route for the router's life).
    routes: arc_swap::ArcSwap<Vec<Arc<RouteHandles>>>,
    /// By [`MatchKind`] as index: handles fetched once, so counting is one atomic add.
    lookups: [Counter; 3],
    reloads_ok: Counter,
    reloads_failed: Counter,
    data_version: Gauge,
    /// 503s the guard answered itself, by request class and reason.
    shed: Family<ShedLabels, Counter>,
    /// Connections the server closed itself, by reason.
    closed: Family<OneLabel, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShedLabels {
    class: &'static str,
    reason: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("alliance_map");
        let requests = Family::<RouteStatus, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template and status, shed and timed-out ones included",
            requests.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "http_request_duration_seconds",
            "Time to produce a response, by route template",
            latency.clone(),
        );
        let lookups_family = Family::<OneLabel, Counter>::default();
        registry.register("lookups", "Point lookups by match kind", lookups_family.clone());
        // In `MatchKind` order, so a kind's discriminant is its index.
        let lookups =
            ["contains", "nearest", "outside"].map(|kind| lookups_family.get_or_create(&[("match", kind)]).clone());
        let reloads = Family::<OneLabel, Counter>::default();
        registry.register("reloads", "Data reloads by outcome", reloads.clone());
        let reloads_ok = reloads.get_or_create(&[("outcome", "ok")]).clone();
        let reloads_failed = reloads.get_or_create(&[("outcome", "failed")]).clone();
        let data_version = Gauge::default();
        registry.register(
            "data_version",
            "Generation of the loaded data (1 at start, +1 per reload)",
            data_version.clone(),
        );
        let shed = Family::<ShedLabels, Counter>::default();
        registry.register(
            "shed",
            "Requests answered 503 by the server itself, by class (single, bulk) and reason (capacity, timeout)",
            shed.clone(),
        );
        let closed = Family::<OneLabel, Counter>::default();
        registry.register(
            "connections_closed",
            "Connections closed by the server, by reason (over_cap, handshake_timeout, idle_timeout, write_timeout)",
            closed.clone(),
        );
        Metrics {
            shed,
            closed,
            registry,
            requests,
            latency,
            routes: Default::default(),
            lookups,
            reloads_ok,
            reloads_failed,
            data_version,
        }
    }

    pub fn count_lookup(&self, kind: MatchKind) {
        self.lookups[kind as usize].inc();
    }

    /// One request answered 503 by the guard: `class` is `single` or `bulk`, `reason`
    /// `capacity` (shed) or `timeout`.
    pub fn count_shed(&self, class: &'static str, reason: &'static str) {
        self.shed.get_or_create(&ShedLabels { class, reason }).inc();
    }

    /// One connection closed by the server (`reason` is a fixed label).
    pub fn count_closed(&self, reason: &'static str) {
        self.closed.get_or_create(&[("reason", reason)]).inc();
    }

    pub fn count_reload(&self, ok: bool) {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.inc();
    }

    /// Records one finished request. `route` is the route template (`/api/v1/lookup`), or a
    /// fixed label for requests that never reached a route.
    pub fn record(&self, route: &str, status: u16, seconds: f64) {
        let handles = self.route_handles(route);
        handles.latency.observe(seconds);
        match handles.statuses.get(usize::from(status).wrapping_sub(100)) {
            Some(slot) => slot
                .get_or_init(|| {
                    self.requests
                        .get_or_create(&RouteStatus {
                            route: handles.route,
                            status,
                        })
                        .clone()
                })
                .inc(),
            None => self
                .requests
                .get_or_create(&RouteStatus {
                    route: handles.route,
                    status,
                })
                .inc(),
        };
    }

    fn route_handles(&self, route: &str) -> Arc<RouteHandles> {
        let key = (route.as_ptr() as usize, route.len());
        let known = self.routes.load();
        // A match by address is confirmed by content, in case a template was freed and its
        // memory reused for another.
        if let Some(h) = known.iter().find(|h| h.key == key && h.route == route) {
            return h.clone();
        }
        let interned = intern(route);
        let handles = Arc::new(RouteHandles {
            key,
            route: interned,
            latency: self.latency.get_or_create(&RouteLabel { route: interned }).clone(),
            statuses: (100..600).map(|_| OnceLock::new()).collect(),
        });
        self.routes.rcu(|routes| {
            let mut routes = Vec::clone(routes);
            if routes.len() < 512 {
                routes.push(handles.clone());
            }
            routes
        });
        handles
    }

    /// The Prometheus text format, with the current data generation.
    pub fn render(&self, data_version: u64) -> String {
        self.data_version.set(i64::try_from(data_version).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Route templates as `&'static str` labels. Templates come from the routes table (a few dozen),
/// so each is leaked once; anything else would be a fixed label, never request text.
fn intern(route: &str) -> &'static str {
    static ROUTES: OnceLock<RwLock<HashMap<String, &'static str>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    // Read-mostly: after the first request on each route, only the shared lock is taken.
    if let Some(r) = routes.read().ok().and_then(|m| m.get(route).copied()) {
        return r;
    }
    let Ok(mut routes) = routes.write() else {
        return "(unknown)";
    };
    if let Some(r) = routes.get(route) {
        return r;
    }
    if routes.len() >= 256 {
        return "(other)"; // a bound, in case a caller ever passed request text
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(route.to_owned(), leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_route_status_and_match() {
        let m = Metrics::new();
        m.record("/api/v1/lookup", 200, 0.0002);
        m.record("/api/v1/lookup", 200, 0.0003);
        m.record("(shed)", 503, 0.0);
        m.count_lookup(MatchKind::Nearest);
        m.count_reload(false);
        let text = m.render(3);
        for line in [
            "alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"200\"} 2",
            "alliance_map_http_requests_total{route=\"(shed)\",status=\"503\"} 1",
            "alliance_map_http_request_duration_seconds_count{route=\"/api/v1/lookup\"} 2",
            "alliance_map_lookups_total{match=\"nearest\"} 1",
            "alliance_map_lookups_total{match=\"contains\"} 0",
            "alliance_map_reloads_total{outcome=\"failed\"} 1",
            "alliance_map_data_version 3",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
