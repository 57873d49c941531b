//! One check shared by the synthetic and the real-data tests: an atlas loaded with only the
//! editions in force on a date (`Editions::InForceOn`, what `lookup` and `annotate` load)
//! answers every point exactly as the atlas of every edition does, on every period's first
//! day, in its middle, with no date and with `latest`.

use alliance_map::atlas::{Atlas, Editions, Options};
use alliance_map::model::dates::AsOf;
use alliance_map::model::DataSource;

/// The answer's JSON and its date, as the CLI prints them.
fn answer(atlas: &Atlas, at: Option<AsOf>, lon: f64, lat: f64) -> String {
    let when = atlas.data.when(at).expect("a date with editions");
    let located = atlas.locator_at(when.period).locate(lon, lat);
    let json = serde_json::to_string(&atlas.data.lookup_result(lon, lat, &when, &located, None)).unwrap();
    format!("{json} as of {} superseded {:?}", when.as_of, when.superseded_since)
}

/// Loads `source` as `base` says, with every edition and with each date's; panics naming the
/// date and point of the first difference; returns how many editions the smallest subset
/// loaded (to show something was left out).
pub fn assert_subsets_answer_alike(source: &DataSource, base: &Options, points: &[(f64, f64)]) -> usize {
    let load = |editions| {
        Atlas::load(
            source,
            &Options {
                editions,
                ..base.clone()
            },
        )
        .expect("the data loads")
    };
    let full = load(Editions::All);
    let mut dates: Vec<Option<AsOf>> = vec![None, Some(AsOf::Latest)];
    for p in &full.data.periods {
        dates.push(Some(AsOf::Date(p.from)));
        if let Some(until) = p.until {
            dates.push(Some(AsOf::Date(p.from + (until - p.from) / 2)));
        }
    }
    let mut fewest = usize::MAX;
    for at in dates {
        let subset = load(Editions::InForceOn(at));
        fewest = fewest.min(subset.data.editions.len());
        assert!(subset.data.editions.len() <= full.data.editions.len());
        for &(lon, lat) in points {
            assert_eq!(
                answer(&subset, at, lon, lat),
                answer(&full, at, lon, lat),
                "date {at:?} at ({lon}, {lat})"
            );
        }
    }
    fewest
}
