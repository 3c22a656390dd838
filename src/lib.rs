//! motesvakt ("meeting guard") audits the logs of video-meeting platforms against the routines
//! Swedish health and social care organisations have written for remote meetings.
//!
//! Data flows one way:
//! file → [`sources`] adapter ([`sources::Record`]: position, record key, items) →
//! [`event::Event`] → [`meeting::Observation`] (the detector reads every text here, and only
//! here) → [`store`] (meeting state, pending meetings, the clock) → [`meeting::MeetingView`]
//! (a meeting in time order) → [`rules`] → [`incident::Incident`] → [`store`] → [`report`].
//! [`pipeline`] is that flow; the batch scan ([`scan`]) and the service ([`service`], fed by
//! [`ingest::tailer`] and [`ingest::watch`]) are its two drivers. [`ingest`] finds and reads
//! the files, [`config`] holds the settings and routine profiles, and [`setup`] builds the
//! parts every command shares (hash key, detector, store).

pub mod alert;
pub mod cli;
pub mod config;
pub mod detect;
pub mod event;
#[doc(hidden)]
pub mod fuzzing;
pub mod i18n;
pub mod incident;
pub mod ingest;
pub mod live;
pub mod logging;
pub mod meeting;
pub mod org;
pub mod phrases;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod scan;
pub mod service;
pub mod setup;
pub mod sources;
pub mod store;
pub mod work;
