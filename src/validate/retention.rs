//! CloudWatch Logs retention. PutRetentionPolicy, `retentionInDays`: "Possible
//! values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
//! 1827, 2192, 2557, 2922, 3288, and 3653."
//! https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html

use crate::validate::{broken, Check};

pub const DAYS: &[i32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

pub fn check(days: i32) -> Check {
    if DAYS.contains(&days) {
        return Ok(());
    }
    let list: Vec<String> = DAYS.iter().map(ToString::to_string).collect();
    Err(broken(
        format!("{days} is not a CloudWatch Logs retention ({})", list.join(", ")),
        "pick one of the values CloudWatch Logs accepts (PutRetentionPolicy)",
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_listed_values() {
        assert!(super::check(1).is_ok() && super::check(3653).is_ok());
        assert!(super::check(2).is_err() && super::check(0).is_err() && super::check(-1).is_err());
    }
}
