//! Dates in requests: `YYYY-MM-DD` or `latest`, and which period of editions answers for one.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::Dataset;
use crate::views::When;

/// What a request's `date` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Date(NaiveDate),
    /// The latest editions held (flagged with the date they were superseded, if known).
    Latest,
}

impl FromStr for AsOf {
    type Err = String;

    /// Exactly `YYYY-MM-DD` (a real calendar date) or `latest`.
    fn from_str(text: &str) -> Result<Self, String> {
        if text == "latest" {
            return Ok(AsOf::Latest);
        }
        let shown: String = text.chars().take(40).collect();
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shaped {
            return Err(format!("must be a date as YYYY-MM-DD or \"latest\", got {shown:?}"));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(AsOf::Date)
            .map_err(|_| format!("is not a calendar date: {shown:?}"))
    }
}

/// A date on which no edition of this data is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoEdition {
    pub date: NaiveDate,
    pub first: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl fmt::Display for NoEdition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no edition of this data is in force on {}: editions are held from {}",
            self.date, self.first
        )?;
        match self.end {
            Some(end) => write!(f, " until {}", end.pred_opt().unwrap_or(end)),
            None => Ok(()),
        }
    }
}

impl Dataset {
    /// The default date and its period (answers without a date).
    pub fn default_when(&self) -> When {
        When {
            period: self.default_period,
            as_of: self.manifest.default_date,
            superseded_since: None,
        }
    }

    /// Whether period `p`'s footprint edition is an STP edition (answers then keep the 2017
    /// `stp` field).
    pub fn footprint_is_stp(&self, p: usize) -> bool {
        self.periods[p]
            .footprint
            .is_some_and(|e| self.editions[e].spec.area_kind.as_deref() == Some("stp"))
    }

    /// The answers' date and period for a request's `date` (`None`: the default date).
    pub fn when(&self, date: Option<AsOf>) -> Result<When, NoEdition> {
        match date {
            None => Ok(self.default_when()),
            Some(AsOf::Latest) => {
                let period = self.latest_period();
                let p = &self.periods[period];
                Ok(When {
                    period,
                    as_of: p.from,
                    superseded_since: p.until,
                })
            }
            Some(AsOf::Date(date)) => match self.period_at(date) {
                Some(period) => Ok(When {
                    period,
                    as_of: date,
                    superseded_since: None,
                }),
                None => Err(NoEdition {
                    date,
                    first: self.periods.first().map_or(date, |p| p.from),
                    end: self.periods.last().and_then(|p| p.until),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_latest_only() {
        assert_eq!("latest".parse(), Ok(AsOf::Latest));
        assert_eq!(
            "2019-07-01".parse(),
            Ok(AsOf::Date(NaiveDate::from_ymd_opt(2019, 7, 1).unwrap()))
        );
        for bad in [
            "2019-7-1",
            "2019-07-01T00:00",
            "20190701",
            "Latest",
            "",
            "2019-02-30",
            "２０19-07-01",
        ] {
            assert!(bad.parse::<AsOf>().is_err(), "{bad}");
        }
        assert!("2019-02-30"
            .parse::<AsOf>()
            .unwrap_err()
            .contains("not a calendar date"));
    }
}
