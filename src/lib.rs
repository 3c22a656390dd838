//! motesvakt ("meeting guard") audits the logs of video-meeting platforms against the routines
//! Swedish health and social care organisations have written for remote meetings.
//!
//! Data flows one way:
//! file → [`sources`] adapter → [`event::Event`] → [`rules`] (meeting state and routine rules)
//! → [`rules::Incident`] → [`store`] → [`report`]. [`detect`] finds patient data in every text
//! on the way and is the only place that sees it; [`ingest`] finds and reads the files, and
//! [`config`] holds the settings and routine profiles.

pub mod cli;
pub mod config;
pub mod detect;
pub mod event;
pub mod i18n;
pub mod incident;
pub mod ingest;
pub mod meeting;
pub mod org;
pub mod phrases;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sources;
pub mod store;
