use std::collections::HashMap;

use super::*;

/// The captured Flink changelog (inserts, updates as a `d` and a `c`, a
/// delete), each message with its table.
fn captured() -> Vec<(Table, String)> {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/kafka/flink-debezium-json.json"
    ))
    .unwrap();
    fixture["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let key = m["key"].as_str().unwrap();
            let table = if key.contains("ss_") {
                Table::StoreSales
            } else {
                Table::StoreReturns
            };
            (table, m["payload"].as_str().unwrap().to_string())
        })
        .collect()
}

fn tally_of(messages: &[(Table, String)], tickets: &Range<u64>) -> Tally {
    let mut t = Tally::default();
    let mut buf = String::new();
    for (table, p) in messages {
        t.count(Some(*table), p.as_bytes(), tickets, &mut buf);
    }
    t
}

/// Each key's last image, the read-back's way: rows and digest sum per table.
fn last_images(messages: &[(Table, String)], tickets: &Range<u64>) -> [(i64, i128); 2] {
    let mut last: HashMap<(Table, u64, u32), Option<u64>> = HashMap::new();
    let mut buf = String::new();
    for (table, p) in messages {
        let i = fast::debezium(*table, p.as_bytes(), &mut buf).unwrap();
        if tickets.contains(&i.ticket) {
            last.insert((*table, i.ticket, i.item), i.digest);
        }
    }
    let mut out = [(0, 0); 2];
    for ((table, _, _), d) in last {
        if let Some(d) = d {
            out[table.index()].0 += 1;
            out[table.index()].1 += i128::from(d);
        }
    }
    out
}

const ALL: Range<u64> = 0..u64::MAX;

#[test]
fn the_tally_of_a_flink_changelog_is_each_keys_last_image() {
    let m = captured();
    let t = tally_of(&m, &ALL);
    assert_eq!(t.unusable, None);
    assert_eq!(t.messages, m.len() as u64);
    let want = last_images(&m, &ALL);
    assert_eq!(t.of(Table::StoreSales), Some(want[0]));
    assert_eq!(t.of(Table::StoreReturns), Some(want[1]));
    // Not trivially zero: the changelog leaves rows.
    assert!(want[0].0 > 0 && want[0].1 != 0, "{want:?}");
}

#[test]
fn order_does_not_matter_but_a_lost_or_repeated_message_does() {
    let m = captured();
    let whole = tally_of(&m, &ALL);
    let mut reversed = m.clone();
    reversed.reverse();
    assert_eq!(tally_of(&reversed, &ALL), whole);
    for i in 0..m.len() {
        let mut lost = m.clone();
        let gone = lost.remove(i);
        assert_ne!(tally_of(&lost, &ALL), whole, "without message {i}");
        let mut twice = m.clone();
        twice.push(gone);
        assert_ne!(tally_of(&twice, &ALL), whole, "message {i} twice");
    }
}

#[test]
fn one_cent_changes_the_sum() {
    let m = captured();
    let whole = tally_of(&m, &ALL);
    // The last insert or update that left a net_paid of 37.02, one cent off.
    let i = m
        .iter()
        .rposition(|(_, p)| p.contains("\"op\":\"c\"") && p.contains("\"ss_net_paid\":37.02"))
        .unwrap();
    let mut changed = m.clone();
    changed[i].1 = m[i]
        .1
        .replace("\"ss_net_paid\":37.02", "\"ss_net_paid\":37.03");
    let t = tally_of(&changed, &ALL);
    assert_eq!(t.unusable, None);
    assert_ne!(t, whole);
}

#[test]
fn rows_outside_the_range_are_not_counted() {
    let m = captured();
    let t = tally_of(&m, &(0..1));
    assert_eq!(t.messages, 0);
    assert_eq!(t.of(Table::StoreSales), Some((0, 0)));
}

#[test]
fn a_message_the_fast_reader_leaves_makes_the_tally_unusable() {
    let mut t = Tally::default();
    let mut buf = String::new();
    t.count(
        Some(Table::StoreSales),
        br#"{"payload":{"op":"c"}}"#,
        &ALL,
        &mut buf,
    );
    assert!(t.unusable.is_some());
    assert_eq!(t.of(Table::StoreSales), None);
}

#[test]
fn the_thread_counts_what_it_was_handed() {
    let m = captured();
    let mut c = Counter::start(ALL).unwrap();
    for chunk in m.chunks(2) {
        c.send(
            chunk
                .iter()
                .map(|(t, p)| (Some(*t), p.as_bytes().to_vec()))
                .collect(),
        );
    }
    assert_eq!(c.finish(), tally_of(&m, &ALL));
}
