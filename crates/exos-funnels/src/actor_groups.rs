//! Groups span rows by (actor, breakdown value) as they stream in, so that
//! DuckDB only filters, sorts and streams rows.
//!
//! DuckDB sorts the rows by a 64-bit hash of the actor, which is cheaper than
//! sorting by the string and puts all rows of an actor next to each other.
//! Rows with the same hash form a run. A run is split into groups by
//! comparing the actor and breakdown strings, so two actors whose hashes
//! collide still get separate groups. Only one run is in memory at a time.
//! Measured on 10,000,000 spans of 1,000,000 actors, grouping unsorted rows
//! in a hash map keyed by the actor string made the whole funnel more than
//! twice as slow (docs/BENCHMARKS.md).

/// Rows of one group, as parallel slices.
pub struct GroupRows<'a> {
    pub actor: &'a str,
    pub breakdown: &'a str,
    pub timestamps_ns: &'a [i64],
    pub steps: &'a [u32],
    pub exclusions: &'a [u32],
}

/// One span row as DuckDB returns it.
pub struct SpanRow<'a> {
    pub actor_hash: u64,
    pub actor: &'a str,
    pub breakdown: &'a str,
    pub timestamp_ns: i64,
    pub steps: u32,
    pub exclusions: u32,
}

/// Groups of the current run; buffers are reused from run to run.
#[derive(Default)]
pub struct RunGrouper {
    run_hash: Option<u64>,
    groups: Vec<GroupBuffer>,
    /// Number of `groups` that belong to the current run.
    active: usize,
}

#[derive(Default)]
struct GroupBuffer {
    actor: String,
    breakdown: String,
    timestamps_ns: Vec<i64>,
    steps: Vec<u32>,
    exclusions: Vec<u32>,
}

impl RunGrouper {
    /// Adds a row; calls `visit` for each group of the previous run when a new run starts.
    pub fn push(&mut self, row: SpanRow<'_>, visit: &mut impl FnMut(GroupRows<'_>)) {
        if self.run_hash != Some(row.actor_hash) {
            self.flush(visit);
            self.run_hash = Some(row.actor_hash);
        }
        let index = self.group_index(row.actor, row.breakdown);
        let group = &mut self.groups[index];
        group.timestamps_ns.push(row.timestamp_ns);
        group.steps.push(row.steps);
        group.exclusions.push(row.exclusions);
    }

    /// Calls `visit` for each group of the last run.
    pub fn finish(mut self, visit: &mut impl FnMut(GroupRows<'_>)) {
        self.flush(visit);
    }

    /// Returns the index of the run's group for (actor, breakdown), opening one if needed.
    fn group_index(&mut self, actor: &str, breakdown: &str) -> usize {
        let found = self.groups[..self.active]
            .iter()
            .position(|group| group.actor == actor && group.breakdown == breakdown);
        if let Some(index) = found {
            return index;
        }
        if self.active == self.groups.len() {
            self.groups.push(GroupBuffer::default());
        }
        let group = &mut self.groups[self.active];
        group.actor.clear();
        group.actor.push_str(actor);
        group.breakdown.clear();
        group.breakdown.push_str(breakdown);
        self.active += 1;
        self.active - 1
    }

    fn flush(&mut self, visit: &mut impl FnMut(GroupRows<'_>)) {
        for group in &mut self.groups[..self.active] {
            visit(GroupRows {
                actor: &group.actor,
                breakdown: &group.breakdown,
                timestamps_ns: &group.timestamps_ns,
                steps: &group.steps,
                exclusions: &group.exclusions,
            });
            group.timestamps_ns.clear();
            group.steps.clear();
            group.exclusions.clear();
        }
        self.active = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(
        actor_hash: u64,
        actor: &'a str,
        breakdown: &'a str,
        timestamp_ns: i64,
    ) -> SpanRow<'a> {
        SpanRow {
            actor_hash,
            actor,
            breakdown,
            timestamp_ns,
            steps: 1,
            exclusions: 0,
        }
    }

    #[test]
    fn runs_split_colliding_actors() {
        let mut seen = Vec::new();
        let mut visit = |rows: GroupRows<'_>| {
            seen.push((
                rows.actor.to_string(),
                rows.breakdown.to_string(),
                rows.timestamps_ns.to_vec(),
            ));
        };
        let mut grouper = RunGrouper::default();
        // Actors a and b share hash 7, as if their hashes collided.
        grouper.push(row(7, "a", "x", 3), &mut visit);
        grouper.push(row(7, "b", "x", 1), &mut visit);
        grouper.push(row(7, "a", "y", 2), &mut visit);
        grouper.push(row(7, "a", "x", 0), &mut visit);
        grouper.push(row(9, "c", "x", 5), &mut visit);
        grouper.finish(&mut visit);
        assert_eq!(
            seen,
            [
                ("a".into(), "x".into(), vec![3, 0]),
                ("b".into(), "x".into(), vec![1]),
                ("a".into(), "y".into(), vec![2]),
                ("c".into(), "x".into(), vec![5]),
            ]
        );
    }
}
