//! `logs --follow` on CloudWatch Logs Live Tail: lines pushed within about a second
//! of their ingestion instead of a poll every few seconds.
//!
//! Each session is opened first, then the streams are read once (FilterLogEvents)
//! from the window's start, so that what was ingested before the session started
//! (the `--since` backlog, or the gap between two sessions) is not lost; a line that
//! comes both ways is printed once (`Window`, by content). A session ends at its
//! three-hour limit (SessionTimeoutException), on a server error or when the
//! connection breaks: a new one is opened, at most one per `pause`. When Live Tail is
//! refused (no `logs:StartLiveTail`, an emulator without it) or the group is not
//! found, `follow` says so and polls instead, as it did before Live Tail.

use std::time::Duration;

use tokio::time::Instant;

use crate::aws::logs::{LogEvent, Logs};
use crate::aws::logs_live::{LiveItem, LiveTail};
use crate::error::Result;
use crate::logstream::Follower;

/// How `follow` talks: lines to `print`, notes to stderr, `verbose` ones only when asked.
pub struct Follow<'a> {
    pub logs: &'a Logs,
    /// Between two polls, and the least time between two session starts.
    pub pause: Duration,
    pub verbose: bool,
}

impl Follow<'_> {
    /// Prints the lines of `follower`'s streams as they come, until the process ends.
    pub async fn run(&self, follower: &mut Follower, print: &mut dyn FnMut(&LogEvent)) -> Result<()> {
        let Some(arn) = self.logs.group_arn(&follower.group).await? else {
            return self.poll_forever(follower, print).await;
        };
        let mut session = match self.logs.start_live_tail(&arn, &follower.prefix).await {
            Ok(s) => s,
            Err(e) => {
                self.fall_back(&e.to_string());
                return self.poll_forever(follower, print).await;
            }
        };
        follower.key_by_content();
        eprintln!("following {} streams {}* with CloudWatch Logs Live Tail", follower.group, follower.prefix);
        let mut started = Instant::now();
        self.catch_up(follower, print).await?;
        let mut sampled_said = false;
        loop {
            match session.next().await {
                LiveItem::Started { session_id } => {
                    self.note(&format!("Live Tail session {session_id} open"));
                    continue;
                }
                LiveItem::Update { events, sampled } => {
                    if sampled && !sampled_said {
                        sampled_said = true;
                        eprintln!(
                            "Live Tail sends at most 500 lines a second and sampled this second's; \
                             `cruddur logs` without --follow reads every line"
                        );
                    }
                    for e in follower.admit(events) {
                        print(&e);
                    }
                    continue;
                }
                LiveItem::TimedOut => {
                    eprintln!("the Live Tail session reached its three-hour limit: opening a new one")
                }
                LiveItem::Broken(why) => eprintln!("the Live Tail session ended ({why}): opening a new one"),
                LiveItem::Ended => self.note("the Live Tail session ended: opening a new one"),
            };
            tokio::time::sleep_until(started + self.pause).await;
            session = match self.reopen(&arn, follower).await {
                Some(s) => s,
                None => return self.poll_forever(follower, print).await,
            };
            started = Instant::now();
            self.catch_up(follower, print).await?;
        }
    }

    async fn reopen(&self, arn: &str, follower: &Follower) -> Option<LiveTail> {
        match self.logs.start_live_tail(arn, &follower.prefix).await {
            Ok(s) => Some(s),
            Err(e) => {
                self.fall_back(&e.to_string());
                None
            }
        }
    }

    /// What the streams hold from the window's start that was not printed yet.
    async fn catch_up(&self, follower: &mut Follower, print: &mut dyn FnMut(&LogEvent)) -> Result<()> {
        for e in follower.poll(self.logs).await? {
            print(&e);
        }
        Ok(())
    }

    async fn poll_forever(&self, follower: &mut Follower, print: &mut dyn FnMut(&LogEvent)) -> Result<()> {
        loop {
            self.catch_up(follower, print).await?;
            tokio::time::sleep(self.pause).await;
        }
    }

    fn fall_back(&self, why: &str) {
        eprintln!(
            "Live Tail is not available ({why}); polling FilterLogEvents every {} instead",
            humantime::format_duration(self.pause)
        );
    }

    fn note(&self, text: &str) {
        if self.verbose {
            eprintln!("{text}");
        }
    }
}
