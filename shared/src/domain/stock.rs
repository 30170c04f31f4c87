//! Stock reservation, planned purely: which counters give how many units to an order, or which
//! SKUs fall short. The store makes the plan happen in one conditional transaction.

use std::collections::{BTreeMap, HashMap};

use super::{
    ids::{OrderId, Sku},
    pricing::OrderLine,
};

/// One counter of a SKU's stock. A SKU's stock lives on its catalog item, or, for a hot SKU, is
/// split across numbered counters so that concurrent reservations write different items (one
/// DynamoDB item takes about 1,000 writes a second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    Item,
    Shard(u16),
}

/// What a SKU has left, per counter, as read just now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub counters: Vec<(Counter, u32)>,
}

impl StockLevel {
    pub fn available(&self) -> u32 {
        self.counters.iter().map(|(_, units)| units).sum()
    }
}

/// Units taken from one counter for one order: exactly what a release gives back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    pub sku: Sku,
    pub counter: Counter,
    pub quantity: u32,
}

/// A SKU the order wanted more of than there was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shortage {
    pub sku: Sku,
    pub requested: u32,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationPlan {
    /// Take these units; each allocation is conditional on its counter still having them.
    Reserve(Vec<Allocation>),
    /// Nothing is reserved: these SKUs are short.
    Reject(Vec<Shortage>),
}

/// Units wanted per SKU; a SKU on several lines counts once, with their sum.
pub fn requested_units(lines: &[OrderLine]) -> BTreeMap<Sku, u32> {
    let mut wanted = BTreeMap::new();
    for line in lines {
        *wanted.entry(line.sku.clone()).or_insert(0) += u32::from(line.quantity.get());
    }
    wanted
}

/// Plans the reservation of `lines` against `levels`. A SKU missing from `levels` has no stock.
/// A split SKU is drawn from the counter the order id hashes to, then the next ones, so that
/// concurrent orders spread over the counters and a retry of the same order plans the same way.
pub fn plan_reservation(order: &OrderId, lines: &[OrderLine], levels: &HashMap<Sku, StockLevel>) -> ReservationPlan {
    let mut allocations = Vec::new();
    let mut shortages = Vec::new();
    for (sku, requested) in requested_units(lines) {
        match allocate(order, &sku, requested, levels.get(&sku)) {
            Ok(taken) => allocations.extend(taken),
            Err(available) => shortages.push(Shortage { sku, requested, available }),
        }
    }
    if shortages.is_empty() { ReservationPlan::Reserve(allocations) } else { ReservationPlan::Reject(shortages) }
}

/// `units` of `sku` from its counters, or how many there are if too few.
fn allocate(order: &OrderId, sku: &Sku, units: u32, level: Option<&StockLevel>) -> Result<Vec<Allocation>, u32> {
    let Some(level) = level.filter(|level| level.available() >= units) else {
        return Err(level.map_or(0, StockLevel::available));
    };
    let start = order.slot(level.counters.len());
    let mut allocations = Vec::new();
    let mut remaining = units;
    for (counter, available) in level.counters.iter().cycle().skip(start).take(level.counters.len()) {
        if remaining == 0 {
            break;
        }
        let take = remaining.min(*available);
        if take > 0 {
            allocations.push(Allocation { sku: sku.clone(), counter: *counter, quantity: take });
            remaining -= take;
        }
    }
    Ok(allocations)
}

/// The stock an amendment moves: only the difference between what the order holds and what it
/// will hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockAdjustment {
    /// Taken from the counters, each conditional on the counter still having them.
    pub take: Vec<Allocation>,
    /// Given back to the counters they came from.
    pub give_back: Vec<Allocation>,
    /// What the order holds afterwards.
    pub reservation: Vec<Allocation>,
}

impl StockAdjustment {
    /// Counters the adjustment writes.
    pub fn writes(&self) -> usize {
        self.take.len() + self.give_back.len()
    }
}

/// How an amended order's reservation changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdjustmentPlan {
    Adjust(StockAdjustment),
    /// Nothing changes: these SKUs are short (`available` counts what the order holds already).
    Reject(Vec<Shortage>),
}

/// Plans the move from what the order holds (`held`) to what `lines` need: more units of a SKU
/// are taken as a reservation would take them, fewer are given back, newest allocation first.
pub fn plan_adjustment(
    order: &OrderId,
    held: &[Allocation],
    lines: &[OrderLine],
    levels: &HashMap<Sku, StockLevel>,
) -> AdjustmentPlan {
    let wanted = requested_units(lines);
    let mut holding: BTreeMap<Sku, u32> = BTreeMap::new();
    for allocation in held {
        *holding.entry(allocation.sku.clone()).or_insert(0) += allocation.quantity;
    }
    let skus: std::collections::BTreeSet<&Sku> = wanted.keys().chain(holding.keys()).collect();
    let (mut take, mut give_back, mut shortages) = (Vec::new(), Vec::new(), Vec::new());
    for sku in skus {
        let (want, have) = (wanted.get(sku).copied().unwrap_or(0), holding.get(sku).copied().unwrap_or(0));
        if want > have {
            match allocate(order, sku, want - have, levels.get(sku)) {
                Ok(taken) => take.extend(taken),
                Err(available) => {
                    shortages.push(Shortage { sku: sku.clone(), requested: want, available: available + have })
                }
            }
        } else if have > want {
            let mut surplus = have - want;
            for allocation in held.iter().rev().filter(|allocation| &allocation.sku == sku) {
                let back = surplus.min(allocation.quantity);
                if back > 0 {
                    give_back.push(Allocation { sku: sku.clone(), counter: allocation.counter, quantity: back });
                    surplus -= back;
                }
            }
        }
    }
    if !shortages.is_empty() {
        return AdjustmentPlan::Reject(shortages);
    }
    let mut reservation: BTreeMap<(Sku, Counter), u32> = BTreeMap::new();
    for allocation in held.iter().chain(&take) {
        *reservation.entry((allocation.sku.clone(), allocation.counter)).or_insert(0) += allocation.quantity;
    }
    for allocation in &give_back {
        if let Some(units) = reservation.get_mut(&(allocation.sku.clone(), allocation.counter)) {
            *units -= allocation.quantity;
        }
    }
    let reservation = reservation
        .into_iter()
        .filter(|(_, quantity)| *quantity > 0)
        .map(|((sku, counter), quantity)| Allocation { sku, counter, quantity })
        .collect();
    AdjustmentPlan::Adjust(StockAdjustment { take, give_back, reservation })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::tests::sample_order;
    use crate::domain::{Quantity, money::Money};

    fn line(sku: &str, quantity: u16) -> OrderLine {
        let order = sample_order();
        let template = &order.lines[0];
        OrderLine {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::try_from(u64::from(quantity)).unwrap(),
            unit_price: template.unit_price,
            line_total: Money::zero(template.unit_price.currency()),
            name: template.name.clone(),
        }
    }

    fn levels(entries: &[(&str, &[(Counter, u32)])]) -> HashMap<Sku, StockLevel> {
        entries
            .iter()
            .map(|(sku, counters)| (Sku::parse(sku).unwrap(), StockLevel { counters: counters.to_vec() }))
            .collect()
    }

    #[test]
    fn a_simple_sku_with_enough_stock_is_reserved_from_its_item() {
        let order = sample_order();
        let plan = plan_reservation(&order.id, &[line("MUG", 2)], &levels(&[("MUG", &[(Counter::Item, 5)])]));
        assert_eq!(
            plan,
            ReservationPlan::Reserve(vec![Allocation {
                sku: Sku::parse("MUG").unwrap(),
                counter: Counter::Item,
                quantity: 2
            }])
        );
    }

    #[test]
    fn any_short_sku_rejects_the_whole_order_with_what_was_asked_and_available() {
        let order = sample_order();
        let lines = [line("MUG", 2), line("TEA", 3), line("TEA", 1), line("GONE", 1)];
        let plan = plan_reservation(
            &order.id,
            &lines,
            &levels(&[("MUG", &[(Counter::Item, 5)]), ("TEA", &[(Counter::Item, 3)])]),
        );
        let ReservationPlan::Reject(shortages) = plan else { panic!("expected a rejection") };
        let short: Vec<_> = shortages.iter().map(|s| (s.sku.as_str(), s.requested, s.available)).collect();
        assert_eq!(short, [("GONE", 1, 0), ("TEA", 4, 3)]);
    }

    #[test]
    fn a_split_sku_draws_across_counters_and_never_more_than_each_holds() {
        let counters = [(Counter::Shard(0), 1), (Counter::Shard(1), 0), (Counter::Shard(2), 2), (Counter::Shard(3), 1)];
        let order = sample_order();
        let ReservationPlan::Reserve(allocations) =
            plan_reservation(&order.id, &[line("HOT", 4)], &levels(&[("HOT", &counters)]))
        else {
            panic!("expected a reservation")
        };
        assert_eq!(allocations.iter().map(|a| a.quantity).sum::<u32>(), 4);
        for allocation in &allocations {
            let held = counters.iter().find(|(counter, _)| *counter == allocation.counter).unwrap().1;
            assert!(allocation.quantity <= held && allocation.quantity > 0);
        }
        let ReservationPlan::Reject(short) =
            plan_reservation(&order.id, &[line("HOT", 5)], &levels(&[("HOT", &counters)]))
        else {
            panic!("expected a rejection")
        };
        assert_eq!((short[0].requested, short[0].available), (5, 4));
    }

    #[test]
    fn orders_spread_over_the_counters_of_a_split_sku() {
        let counters: Vec<_> = (0..4).map(|shard| (Counter::Shard(shard), 100)).collect();
        let levels = levels(&[("HOT", &counters)]);
        let mut used = std::collections::BTreeSet::new();
        for _ in 0..64 {
            let id = OrderId::random().unwrap();
            if let ReservationPlan::Reserve(allocations) = plan_reservation(&id, &[line("HOT", 1)], &levels) {
                used.insert(allocations[0].counter);
            }
        }
        assert_eq!(used.len(), 4);
    }

    #[test]
    fn an_adjustment_moves_only_the_difference() {
        let order = sample_order();
        let held = vec![
            Allocation { sku: Sku::parse("MUG").unwrap(), counter: Counter::Item, quantity: 2 },
            Allocation { sku: Sku::parse("TEE").unwrap(), counter: Counter::Item, quantity: 1 },
        ];
        let stock = levels(&[("MUG", &[(Counter::Item, 5)]), ("CAP", &[(Counter::Item, 1)])]);
        // One more mug, no tee, a cap.
        let plan = plan_adjustment(&order.id, &held, &[line("MUG", 3), line("CAP", 1)], &stock);
        let allocation =
            |sku: &str, quantity| Allocation { sku: Sku::parse(sku).unwrap(), counter: Counter::Item, quantity };
        assert_eq!(
            plan,
            AdjustmentPlan::Adjust(StockAdjustment {
                take: vec![allocation("CAP", 1), allocation("MUG", 1)],
                give_back: vec![allocation("TEE", 1)],
                reservation: vec![allocation("CAP", 1), allocation("MUG", 3)],
            })
        );
        let AdjustmentPlan::Adjust(adjustment) = plan else { panic!("an adjustment") };
        assert_eq!(adjustment.writes(), 3);
        let unchanged = plan_adjustment(&order.id, &held, &[line("MUG", 2), line("TEE", 1)], &stock);
        assert_eq!(
            unchanged,
            AdjustmentPlan::Adjust(StockAdjustment { take: vec![], give_back: vec![], reservation: held.clone() })
        );
        let short = plan_adjustment(&order.id, &held, &[line("MUG", 8)], &stock);
        let mug = Sku::parse("MUG").unwrap();
        assert_eq!(short, AdjustmentPlan::Reject(vec![Shortage { sku: mug, requested: 8, available: 7 }]));
    }
}
