//! What each answer means for the engine: a stream's end (response or
//! error) settles its notification, retries it (429/5xx with back-off, one
//! re-mint after ExpiredProviderToken, a resend after a reset, a GOAWAY or a
//! dropped connection) or reports it in the failures; and giving up reports
//! every unsettled notification, never drops one.

use std::time::Instant;

use futures_util::{FutureExt, StreamExt};
use h2::Reason;

use super::pool::{self, Done};
use super::{unix_now, Auth, Http2Sender, MAX_TRANSPORT_ERRORS, STATUS_NOT_DELIVERED};
use crate::protocol::http2::{Disposition, Response};
use crate::protocol::jwt::TokenCache;
use crate::sender::backoff::RETRY;
use crate::sender::failure::not_delivered;
use crate::sender::Failure;

impl Http2Sender {
    /// Takes up to `limit` answers that are already in, without waiting;
    /// returns how many.
    pub(super) fn collect_finished(&mut self, limit: usize) -> usize {
        let mut taken = 0;
        while taken < limit {
            let Some(Some(done)) = self.streams.next().now_or_never() else {
                break;
            };
            self.on_done(done);
            taken += 1;
        }
        taken
    }

    pub(super) fn on_done(&mut self, done: Done) {
        let slot = self.slots.get_mut(done.slot);
        let current = slot.and_then(|s| {
            if s.holds(done.generation) {
                s.conn.as_mut().map(|c| (c, &mut s.stats))
            } else {
                None
            }
        });
        match done.result {
            Ok((status, body)) => {
                self.last_progress = self.now;
                self.last_cause.clear();
                if let Some((conn, stats)) = current {
                    conn.in_flight = conn.in_flight.saturating_sub(1);
                    stats.answered += 1;
                }
                if status != 403 && !self.token_confirmed {
                    // APNs accepted the provider token: it holds for every
                    // connection of the pool, open or yet to open.
                    self.token_confirmed = true;
                    for conn in self.slots.iter_mut().filter_map(|s| s.conn.as_mut()) {
                        conn.confirmed = true;
                    }
                }
                let response = Response::parse(status, &body);
                self.on_response(done.key, response, done.jwt.as_deref());
            }
            Err(e) => {
                let refused = e.reason() == Some(Reason::REFUSED_STREAM) && e.is_remote();
                if let Some((conn, stats)) = current {
                    conn.in_flight = conn.in_flight.saturating_sub(1);
                    if (e.is_go_away() || e.is_io() || !e.is_reset()) && !conn.draining {
                        // GOAWAY, a broken connection, or a connection-level
                        // error: nothing new starts on this connection; the
                        // others carry on, and its slot opens a new one.
                        conn.draining = true;
                        stats.goaways += 1;
                    }
                }
                self.last_cause = pool::describe_h2(&e);
                // Beyond GOAWAY's last-stream-id, or refused: never processed.
                let unprocessed = refused || (e.is_go_away() && e.is_remote());
                self.resend(done.key, !unprocessed);
            }
        }
    }

    fn on_response(&mut self, key: u64, response: Response, jwt: Option<&str>) {
        let Some(item) = self.items.get_mut(key) else {
            return;
        };
        match response.disposition() {
            Disposition::Delivered => {
                self.items.remove(key);
            }
            Disposition::Permanent => self.fail(key, response),
            Disposition::Retry => {
                item.retries += 1;
                if item.retries > self.options.max_retries {
                    self.fail(key, response);
                } else {
                    let delay = RETRY.delay(item.retries).min(self.options.timeout / 2);
                    self.delayed.push((Instant::now() + delay, key));
                }
            }
            Disposition::RefreshTokenAndRetry => {
                let refreshable = matches!(self.auth, Auth::Token { .. }) && !item.token_refreshed;
                if !refreshable {
                    self.fail(key, response);
                    return;
                }
                item.token_refreshed = true;
                if let (
                    Auth::Token {
                        key: signing,
                        key_id,
                        team_id,
                    },
                    Some(rejected),
                ) = (&self.auth, jwt)
                {
                    if let Err(e) = TokenCache::global().force_refresh(
                        signing,
                        key_id,
                        team_id,
                        rejected,
                        unix_now(),
                    ) {
                        self.last_cause = e.to_string();
                    }
                }
                self.queue.push_front(key);
            }
        }
    }

    /// Puts an item whose stream ended without a response back in the queue;
    /// `counts`: the failure counts toward [`MAX_TRANSPORT_ERRORS`].
    fn resend(&mut self, key: u64, counts: bool) {
        let Some(item) = self.items.get_mut(key) else {
            return;
        };
        item.transport_errors += u32::from(counts);
        if item.transport_errors >= MAX_TRANSPORT_ERRORS {
            let reason = format!("Not delivered: {}", self.last_cause);
            self.fail(
                key,
                Response {
                    status: STATUS_NOT_DELIVERED as u16,
                    reason,
                    timestamp: None,
                },
            );
        } else {
            self.queue.push_front(key);
        }
    }

    fn fail(&mut self, key: u64, response: Response) {
        let Some(item) = self.items.remove(key) else {
            return;
        };
        self.stats.failed += 1;
        self.failures.push(Failure {
            identifier: item.identifier,
            token: item.request.token().to_string(),
            status: u32::from(response.status),
            reason: response.reason,
            apns_id: Some(item.request.apns_id),
            timestamp: response.timestamp,
        });
    }

    /// Reports every unsettled notification as not delivered; returns how many.
    pub(super) fn give_up_quietly(&mut self, why: &str) -> usize {
        let keys = self.items.keys();
        let count = keys.len();
        let reason = not_delivered(why, &self.last_cause);
        for key in keys {
            self.fail(
                key,
                Response {
                    status: STATUS_NOT_DELIVERED as u16,
                    reason: reason.clone(),
                    timestamp: None,
                },
            );
        }
        self.queue.clear();
        self.delayed.clear();
        self.streams.clear();
        self.drop_connections();
        count
    }
}
