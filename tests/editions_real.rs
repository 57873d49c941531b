//! Editions 2017 → 2023 on the real data: real places through time, the known overlaps and
//! water holes of each edition (`../shared/data/qa/boundaries-qa.json`), border determinism,
//! the dates on every boundary between editions, and the superseded case.

mod common;

use std::sync::OnceLock;

use alliance_map::atlas::{Atlas, Options};
use alliance_map::locate::MatchKind;
use alliance_map::model::dates::AsOf;
use alliance_map::model::Kind;
use chrono::NaiveDate;
use serde_json::Value;

fn atlas() -> &'static Atlas {
    static A: OnceLock<Atlas> = OnceLock::new();
    A.get_or_init(|| {
        Atlas::load(
            &alliance_map::model::DataSource::Dir(common::data_dir().to_path_buf()),
            &Options::default(),
        )
        .expect("real data loads")
    })
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `(alliance, footprint, sub-area)` codes at a point on a date.
fn codes(lon: f64, lat: f64, on: &str) -> (Option<String>, Option<String>, Option<String>) {
    let a = atlas();
    let when = a.data.when(Some(AsOf::Date(date(on)))).expect("a date with editions");
    let r = a.lookup_at(lon, lat, &when);
    (
        r.alliance.map(|x| x.get().code.to_string()),
        r.footprint.map(|x| x.get().code.to_string()),
        r.sub_area.map(|x| x.get().code.to_string()),
    )
}

fn alliance(lon: f64, lat: f64, on: &str) -> String {
    codes(lon, lat, on).0.unwrap_or_default()
}

fn footprint(lon: f64, lat: f64, on: &str) -> String {
    codes(lon, lat, on).1.unwrap_or_default()
}

#[test]
fn thirteen_editions_in_eight_periods() {
    let data = &atlas().data;
    let counts: Vec<(&str, usize)> = data
        .editions
        .iter()
        .map(|e| (e.spec.edition.as_str(), e.areas.len()))
        .collect();
    for (edition, n) in [
        ("CALNCV17", 19),
        ("CAL19", 20),
        ("CAL21", 21),
        ("CAL23", 21),
        ("STP17", 44),
        ("STP19", 42),
        ("STP21", 42),
        ("ICB22", 42),
        ("ICB23", 42),
        ("CCG17", 207),
        ("CCG21", 106),
        ("SICBL22", 106),
        ("SICBL23", 106),
    ] {
        assert!(counts.contains(&(edition, n)), "{edition}: {counts:?}");
    }
    assert_eq!(data.editions.len(), 13);
    assert_eq!(data.periods.len(), 8);
    // Split footprints as the relations give them.
    let split = |on: &str| -> Vec<String> {
        let p = &data.periods[data.period_at(date(on)).unwrap()];
        let fp = &data.editions[p.footprint.unwrap()];
        let links = p.footprint_alliances.as_ref().unwrap();
        (0..fp.areas.len())
            .filter(|&f| links[f].len() > 1)
            .map(|f| fp.areas[f].code.clone())
            .collect()
    };
    assert_eq!(split("2017-04-01"), ["E54000012", "E54000034", "E54000040"]);
    assert_eq!(split("2019-07-01"), ["E54000034", "E54000040"]);
    assert!(split("2021-04-01").is_empty());
    assert_eq!(split("2023-07-01"), ["E54000040", "E54000060"]);
    assert!(data.periods[data.period_at(date("2022-07-01")).unwrap()]
        .footprint_alliances
        .is_none());
}

#[test]
fn chesterfield_greater_manchester_and_glossop_through_time() {
    // Chesterfield: E56000006 → E56000024 (July 2019) → E56000031 (July 2023).
    let (lon, lat) = (-1.4214, 53.2350);
    assert_eq!(alliance(lon, lat, "2017-04-01"), "E56000006");
    assert_eq!(alliance(lon, lat, "2019-06-30"), "E56000006");
    assert_eq!(alliance(lon, lat, "2019-07-01"), "E56000024");
    assert_eq!(alliance(lon, lat, "2023-06-30"), "E56000024");
    assert_eq!(alliance(lon, lat, "2023-07-01"), "E56000031");
    // Greater Manchester's three codes.
    let (lon, lat) = (-2.2426, 53.4808);
    assert_eq!(alliance(lon, lat, "2018-01-01"), "E57000001");
    assert_eq!(alliance(lon, lat, "2020-01-01"), "E56000019");
    assert_eq!(alliance(lon, lat, "2024-01-01"), "E56000032");
    // Glossop: Greater Manchester until it went into Derby and Derbyshire ICB (July 2022),
    // East Midlands alliance in 2023.
    let (lon, lat) = (-1.949, 53.443);
    assert_eq!(footprint(lon, lat, "2021-06-01"), "E54000007");
    assert_eq!(footprint(lon, lat, "2022-07-01"), "E54000058");
    assert_eq!(alliance(lon, lat, "2021-06-01"), "E56000019");
    assert_eq!(alliance(lon, lat, "2023-07-01"), "E56000031");
}

#[test]
fn harrogate_swindon_surrey_and_bassetlaw() {
    // Harrogate: West Yorkshire (and Harrogate), then Humber, Coast and Vale from 2021.
    let (lon, lat) = (-1.537, 53.993);
    assert_eq!(alliance(lon, lat, "2017-04-01"), "E56000003");
    assert_eq!(alliance(lon, lat, "2019-07-01"), "E56000003");
    assert_eq!(alliance(lon, lat, "2021-04-01"), "E56000026");
    assert_eq!(footprint(lon, lat, "2021-04-01"), "E54000051");
    // Swindon: Thames Valley in 2019 and 2023; the derived 2021 layer (from the 2021 lookup,
    // which puts all of BSW CCG in SWAG) has it in SWAG.
    let (lon, lat) = (-1.78, 51.56);
    assert_eq!(alliance(lon, lat, "2019-07-01"), "E56000013");
    assert_eq!(alliance(lon, lat, "2021-04-01"), "E56000015");
    assert_eq!(alliance(lon, lat, "2023-07-01"), "E56000034");
    assert_eq!(footprint(lon, lat, "2023-07-01"), "E54000040");
    // About 67 km² moved from Surrey Heartlands to Sussex in April 2023 (and were recoded).
    let (lon, lat) = (-0.69, 51.05);
    assert_eq!(footprint(lon, lat, "2023-03-31"), "E54000052");
    assert_eq!(footprint(lon, lat, "2023-04-01"), "E54000064");
    // Bassetlaw (Worksop): in Nottingham and Nottinghamshire ICB from July 2022, but the
    // alliance layer keeps it in South Yorkshire and Bassetlaw.
    let (lon, lat) = (-1.124, 53.302);
    assert_eq!(footprint(lon, lat, "2023-07-01"), "E54000060");
    assert_eq!(alliance(lon, lat, "2023-07-01"), "E56000025");
    assert_eq!(codes(lon, lat, "2023-07-01").2.as_deref(), Some("E38000008"));
    // Nottingham itself: same ICB, East Midlands.
    assert_eq!(footprint(-1.15, 52.95, "2023-07-01"), "E54000060");
    assert_eq!(alliance(-1.15, 52.95, "2023-07-01"), "E56000031");
}

#[test]
fn sub_areas_are_unknown_when_no_edition_is_held() {
    for (on, held) in [
        ("2018-03-31", true),
        ("2018-04-01", false),
        ("2021-03-31", false),
        ("2021-04-01", true),
    ] {
        let (_, _, sub) = codes(-1.4214, 53.2350, on);
        assert_eq!(sub.is_some(), held, "{on}");
    }
    let a = atlas();
    let when = a.data.when(Some(AsOf::Date(date("2020-01-01")))).unwrap();
    let r = a.lookup_at(-1.4214, 53.2350, &when);
    assert!(
        r.notes[0].contains("CCG17 was superseded on 2018-04-01"),
        "{:?}",
        r.notes
    );
}

#[test]
fn latest_is_superseded_and_later_dates_are_refused() {
    let data = &atlas().data;
    let w = data.when(Some(AsOf::Latest)).unwrap();
    assert_eq!(w.as_of, date("2023-07-01"));
    assert_eq!(w.superseded_since, Some(date("2024-04-01")));
    let e = data.when(Some(AsOf::Date(date("2024-04-01")))).unwrap_err().to_string();
    assert!(e.contains("until 2024-03-31"), "{e}");
    assert!(data.when(Some(AsOf::Date(date("2017-03-31")))).is_err());
}

/// Every boundary between periods: the day before answers with the earlier period's
/// editions, the day itself with the later's.
#[test]
fn dates_on_every_boundary_between_editions() {
    let data = &atlas().data;
    for w in data.periods.windows(2) {
        let (before, on) = (w[1].from.pred_opt().unwrap(), w[1].from);
        let p0 = data.when(Some(AsOf::Date(before))).unwrap().period;
        let p1 = data.when(Some(AsOf::Date(on))).unwrap().period;
        assert_eq!(p1, p0 + 1, "{on}");
        for kind in [Kind::Alliance, Kind::Footprint, Kind::SubArea] {
            assert_eq!(data.periods[p0].edition(kind), w[0].edition(kind));
            assert_eq!(data.periods[p1].edition(kind), w[1].edition(kind));
        }
    }
}

/// The known overlaps and water holes of each edition: answers are deterministic, and a
/// point in a water hole gets the area around it (by the nearest-area rule).
#[test]
fn known_overlaps_and_water_holes_of_each_edition() {
    let qa: Value = serde_json::from_str(
        &std::fs::read_to_string(common::data_dir().join("qa/boundaries-qa.json")).expect("qa file"),
    )
    .unwrap();
    let a = atlas();
    let data = &a.data;
    let mut checked = 0;
    for edition in &data.editions {
        let Some(layer) = qa.get(edition.spec.edition.to_lowercase()) else {
            continue; // the 2017 layers and CAL21/CCG21 have QA elsewhere
        };
        let kind = edition.spec.kind;
        let e = data.editions.iter().position(|x| std::ptr::eq(x, edition)).unwrap();
        let period = data.periods.iter().position(|p| p.edition(kind) == Some(e)).unwrap();
        let locator = a.locator_at(period);
        let at = |v: &Value| -> (f64, f64) {
            let s = v["at"].as_str().unwrap();
            let (x, y) = s.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        };
        let code_of = |l: &alliance_map::locate::Located| -> Option<&str> {
            let i = match kind {
                Kind::Alliance => l.alliance,
                Kind::Footprint => l.footprint,
                _ => l.sub_area,
            }?;
            Some(data.editions[e].areas[i as usize].code.as_str())
        };
        for overlap in layer["overlaps"]["largest"].as_array().into_iter().flatten() {
            let (x, y) = at(overlap);
            let first = locator.locate(x, y);
            assert_eq!(locator.locate(x, y), first, "deterministic at {x},{y}");
            assert_eq!(locator.locate_exact(x, y), first, "grid and exact agree at {x},{y}");
            assert_ne!(
                first.kind,
                MatchKind::Outside,
                "{}: an overlap at {x},{y}",
                edition.spec.edition
            );
            checked += 1;
        }
        for hole in layer["holes_inside_one_feature"]["largest"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (x, y) = at(hole);
            let l = locator.locate(x, y);
            let bordering = hole["bordering"][0].as_str().unwrap();
            assert_eq!(
                code_of(&l),
                Some(bordering),
                "{}: water hole at {x},{y} answered {l:?}",
                edition.spec.edition
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked} QA places checked");
}

/// The pre-rendered single-lookup answers equal the serialised ones on real data.
#[test]
fn pre_rendered_answers_are_the_serialised_answers() {
    use rand::{Rng, SeedableRng};
    let a = atlas();
    a.locator().grid();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut rendered = 0;
    for _ in 0..50_000 {
        let (lon, lat) = (rng.gen_range(-6.5..1.8), rng.gen_range(49.8..55.9));
        let answer = a.lookup(lon, lat);
        if let Some((json, _)) = a.lookup_json(lon, lat) {
            let plain = serde_json::to_vec(&answer).unwrap();
            assert_eq!(json, plain, "at {lon},{lat}");
            rendered += 1;
        } else {
            // Covered and outside answers are rendered; a nearest one (its distance varies) not.
            assert_eq!(
                answer.match_kind,
                alliance_map::locate::MatchKind::Nearest,
                "at {lon},{lat}"
            );
        }
    }
    assert!(rendered > 45_000, "{rendered} points took the rendered path");
}

#[path = "support/editions_subset.rs"]
mod editions_subset;

/// `lookup` and `annotate` load only the editions in force on their date (from the embedded
/// data, as they do): the same answers as with every edition, at 3,000 random points of
/// England's bounding box and its surroundings, for every period.
#[test]
fn loading_only_the_editions_in_force_gives_the_same_answers() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let points: Vec<(f64, f64)> = (0..3_000)
        .map(|_| (rng.gen_range(-6.5..1.8), rng.gen_range(49.8..55.9)))
        .collect();
    let pack = alliance_map::pack::embedded::open().expect("the embedded data opens");
    let source = alliance_map::model::DataSource::Packed(std::sync::Arc::new(pack));
    let fewest = editions_subset::assert_subsets_answer_alike(&source, &Options::default(), &points);
    assert!(fewest <= 3, "the 2017 date loads its three editions ({fewest})");
}
