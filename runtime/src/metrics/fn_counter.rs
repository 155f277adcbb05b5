//! A counter whose value is read at scrape time from elsewhere: an atomic of a subsystem, or
//! the drop counter of a writer ws-observe does not own.

use prometheus::core::{Collector, Desc};
use prometheus::proto::{MetricFamily, MetricType};

use super::cells;

/// A `counter` family with no labels whose value `read` returns.
pub(crate) struct FnCounter {
    desc: Desc,
    read: fn() -> u64,
}

impl FnCounter {
    pub(crate) fn new(name: &str, help: &str, read: fn() -> u64) -> Self {
        let desc = Desc::new(
            name.to_owned(),
            help.to_owned(),
            Vec::new(),
            Default::default(),
        )
        .expect("static metric descriptions are valid");
        FnCounter { desc, read }
    }
}

impl Collector for FnCounter {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let value = cells::counter(Vec::new(), (self.read)());
        vec![cells::family(
            &self.desc.fq_name,
            &self.desc.help,
            MetricType::COUNTER,
            vec![value],
        )]
    }
}
