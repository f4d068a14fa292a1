//! `capacity` of a service: where Fargate runs its tasks. `"fargate"` (the
//! default: the FARGATE launch type, as before), `"spot"` (every task on
//! FARGATE_SPOT), or a mix `{ fargate = 1, spot = 3, base = 1 }`: weights of the
//! two capacity providers, and `base` tasks that always run on FARGATE before the
//! weights apply (CreateService capacityProviderStrategy; the base is honoured for
//! one provider of a strategy only, here FARGATE).

/// One capacity provider of a strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `FARGATE` or `FARGATE_SPOT`.
    pub name: &'static str,
    pub weight: i32,
    pub base: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Capacity {
    /// The FARGATE launch type, no strategy.
    #[default]
    Fargate,
    /// A capacity-provider strategy (Spot alone, or a mix).
    Strategy(Vec<Provider>),
}

/// CreateService's limits: weight 0 to 1000, base 0 to 100000.
const MAX_WEIGHT: i64 = 1000;
const MAX_BASE: i64 = 100_000;

impl Capacity {
    /// Reads `capacity` as written; `Err` is the message after `services.<name>.`.
    pub fn parse(value: &toml::Value) -> Result<Capacity, String> {
        match value {
            toml::Value::String(s) if s == "fargate" => Ok(Capacity::Fargate),
            toml::Value::String(s) if s == "spot" => {
                Ok(Capacity::Strategy(vec![Provider { name: "FARGATE_SPOT", weight: 1, base: 0 }]))
            }
            toml::Value::String(s) => {
                Err(format!("capacity = \"{s}\": use \"fargate\", \"spot\" or {{ fargate = 1, spot = 3, base = 1 }}"))
            }
            toml::Value::Table(t) => {
                if let Some(key) = t.keys().find(|k| !["fargate", "spot", "base"].contains(&k.as_str())) {
                    return Err(format!("capacity.{key}: unknown key (fargate, spot and base are the keys)"));
                }
                let number = |key: &str, max: i64| -> Result<i64, String> {
                    match t.get(key) {
                        None => Ok(0),
                        Some(toml::Value::Integer(n)) if (0..=max).contains(n) => Ok(*n),
                        Some(v) => Err(format!("capacity.{key} = {v}: a whole number from 0 to {max}")),
                    }
                };
                let (fargate, spot, base) =
                    (number("fargate", MAX_WEIGHT)?, number("spot", MAX_WEIGHT)?, number("base", MAX_BASE)?);
                if fargate + spot == 0 {
                    return Err("capacity: give fargate or spot a weight above 0".into());
                }
                if base > 0 && fargate == 0 {
                    return Err(
                        "capacity.base runs tasks on FARGATE: give fargate a weight too (e.g. fargate = 1)".into()
                    );
                }
                let mut providers = Vec::new();
                if fargate > 0 {
                    providers.push(Provider { name: "FARGATE", weight: fargate as i32, base: base as i32 });
                }
                if spot > 0 {
                    providers.push(Provider { name: "FARGATE_SPOT", weight: spot as i32, base: 0 });
                }
                Ok(Capacity::Strategy(providers))
            }
            other => {
                Err(format!("capacity = {other}: use \"fargate\", \"spot\" or {{ fargate = 1, spot = 3, base = 1 }}"))
            }
        }
    }

    /// True when some tasks may run on FARGATE_SPOT.
    pub fn uses_spot(&self) -> bool {
        matches!(self, Capacity::Strategy(p) if p.iter().any(|p| p.name == "FARGATE_SPOT"))
    }

    /// True when every task would run on FARGATE_SPOT.
    pub fn all_spot(&self) -> bool {
        matches!(self, Capacity::Strategy(p) if p.iter().all(|p| p.name == "FARGATE_SPOT"))
    }

    /// `FARGATE`, or the strategy as `FARGATE base 1 weight 1, FARGATE_SPOT weight 3`.
    pub fn describe(&self) -> String {
        match self {
            Capacity::Fargate => "FARGATE".into(),
            Capacity::Strategy(providers) => describe_strategy(providers.iter().map(|p| (p.name, p.weight, p.base))),
        }
    }
}

/// A strategy as `FARGATE base 1 weight 1, FARGATE_SPOT weight 3`: (provider, weight, base).
pub fn describe_strategy<'a>(items: impl Iterator<Item = (&'a str, i32, i32)>) -> String {
    items
        .map(|(name, weight, base)| match base {
            0 => format!("{name} weight {weight}"),
            b => format!("{name} base {b} weight {weight}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Capacity, String> {
        let t: toml::Table = toml::from_str(&format!("capacity = {text}")).unwrap();
        Capacity::parse(&t["capacity"])
    }

    #[test]
    fn names_and_mixes() {
        assert_eq!(parse("\"fargate\""), Ok(Capacity::Fargate));
        assert!(parse("\"spot\"").unwrap().all_spot());
        let mix = parse("{ fargate = 1, spot = 3, base = 1 }").unwrap();
        assert_eq!(mix.describe(), "FARGATE base 1 weight 1, FARGATE_SPOT weight 3");
        assert!(mix.uses_spot() && !mix.all_spot());
        for (text, message) in [
            ("\"ec2\"", "capacity = \"ec2\": use \"fargate\", \"spot\""),
            ("{ spot = 1, base = 2 }", "capacity.base runs tasks on FARGATE"),
            ("{ fargate = 0 }", "give fargate or spot a weight above 0"),
            ("{ spot = 2000 }", "capacity.spot = 2000: a whole number from 0 to 1000"),
            ("{ spotty = 1 }", "capacity.spotty: unknown key"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(message), "{text}: {e}");
        }
    }
}
