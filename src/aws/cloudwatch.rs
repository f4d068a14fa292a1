//! CloudWatch alarms: a staged release's rollback alarms, each a metric-math alarm
//! over the service's two target groups, as plain values.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types as sdk;

use crate::aws::{call_error, Tags};
use crate::error::Result;

#[derive(Clone)]
pub struct CloudWatch {
    client: aws_sdk_cloudwatch::Client,
}

/// One metric an alarm reads: `AWS/ApplicationELB` `metric` by `stat` over a minute.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub id: String,
    pub metric: String,
    pub stat: String,
    /// (name, value), sorted by name.
    pub dimensions: Vec<(String, String)>,
}

/// An alarm on one metric-math expression (id `e1`) over `metrics`, evaluated each
/// minute; one breaching minute is an alarm, a minute with no data is not.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub metrics: Vec<MetricQuery>,
    pub expression: String,
    pub threshold: f64,
    /// `GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`.
    pub comparison: String,
}

const NAMESPACE: &str = "AWS/ApplicationELB";
const PERIOD: i32 = 60;
const EXPRESSION_ID: &str = "e1";

fn query(m: &MetricQuery) -> sdk::MetricDataQuery {
    let dimensions = m.dimensions.iter().map(|(n, v)| sdk::Dimension::builder().name(n).value(v).build()).collect();
    let metric =
        sdk::Metric::builder().namespace(NAMESPACE).metric_name(&m.metric).set_dimensions(Some(dimensions)).build();
    let stat = sdk::MetricStat::builder().metric(metric).period(PERIOD).stat(&m.stat).build();
    sdk::MetricDataQuery::builder().id(&m.id).metric_stat(stat).return_data(false).build()
}

/// An alarm as DescribeAlarms shows it, in our terms.
fn spec_of(a: &sdk::MetricAlarm) -> AlarmSpec {
    let mut metrics: Vec<MetricQuery> = a
        .metrics()
        .iter()
        .filter_map(|q| {
            let stat = q.metric_stat()?;
            let metric = stat.metric()?;
            let mut dimensions: Vec<(String, String)> = metric
                .dimensions()
                .iter()
                .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
                .collect();
            dimensions.sort();
            Some(MetricQuery {
                id: q.id()?.to_string(),
                metric: metric.metric_name()?.to_string(),
                stat: stat.stat()?.to_string(),
                dimensions,
            })
        })
        .collect();
    metrics.sort_by(|a, b| a.id.cmp(&b.id));
    AlarmSpec {
        name: a.alarm_name().unwrap_or_default().to_string(),
        description: a.alarm_description().unwrap_or_default().to_string(),
        expression: a.metrics().iter().find_map(|q| q.expression()).unwrap_or_default().to_string(),
        metrics,
        threshold: a.threshold().unwrap_or_default(),
        comparison: a.comparison_operator().map(|c| c.as_str().to_string()).unwrap_or_default(),
    }
}

impl CloudWatch {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        CloudWatch { client }
    }

    /// The named metric alarms that exist, by name (DescribeAlarms takes at most 100
    /// names; every page is read).
    pub async fn alarms(&self, names: &[String]) -> Result<BTreeMap<String, AlarmSpec>> {
        let mut out = BTreeMap::new();
        for chunk in names.chunks(100) {
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .describe_alarms()
                    .set_alarm_names(Some(chunk.to_vec()))
                    .alarm_types(sdk::AlarmType::MetricAlarm)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| call_error("cloudwatch:DescribeAlarms", &chunk.join(","), e))?;
                out.extend(
                    page.metric_alarms().iter().map(|a| (a.alarm_name().unwrap_or_default().to_string(), spec_of(a))),
                );
                match page.next_token() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// The names of the metric alarms whose name starts with `prefix` (every page).
    pub async fn alarms_named(&self, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .alarm_types(sdk::AlarmType::MetricAlarm)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("cloudwatch:DescribeAlarms", &format!("{prefix}*"), e))?;
            out.extend(page.metric_alarms().iter().filter_map(|a| a.alarm_name()).map(str::to_string));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// Creates or replaces the alarm (PutMetricAlarm overwrites one of the same name).
    pub async fn put_alarm(&self, spec: &AlarmSpec, tags: &Tags) -> Result<()> {
        let expression = sdk::MetricDataQuery::builder()
            .id(EXPRESSION_ID)
            .expression(&spec.expression)
            .label(&spec.name)
            .return_data(true)
            .build();
        let mut metrics: Vec<sdk::MetricDataQuery> = spec.metrics.iter().map(query).collect();
        metrics.push(expression);
        let tags = tags.iter().map(|(k, v)| sdk::Tag::builder().key(k).value(v).build()).collect();
        self.client
            .put_metric_alarm()
            .alarm_name(&spec.name)
            .alarm_description(&spec.description)
            .set_metrics(Some(metrics))
            .threshold(spec.threshold)
            .comparison_operator(sdk::ComparisonOperator::from(spec.comparison.as_str()))
            .evaluation_periods(1)
            .datapoints_to_alarm(1)
            .treat_missing_data("notBreaching")
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| call_error("cloudwatch:PutMetricAlarm", &spec.name, e))?;
        Ok(())
    }

    /// The alarm's tags (ListTagsForResource on its ARN).
    pub async fn tags(&self, arn: &str) -> Result<Tags> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("cloudwatch:ListTagsForResource", arn, e))?;
        Ok(out.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect())
    }

    /// Deletes the alarms (DeleteAlarms takes at most 100 names; missing ones are no error).
    pub async fn delete_alarms(&self, names: &[String]) -> Result<()> {
        for chunk in names.chunks(100) {
            self.client
                .delete_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| call_error("cloudwatch:DeleteAlarms", &chunk.join(","), e))?;
        }
        Ok(())
    }
}
