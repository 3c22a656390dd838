//! motesvakt ("meeting guard") audits the logs of video-meeting platforms against the routines
//! Swedish health and social care organisations have written for remote meetings.
//!
//! Data flows one way:
//! file → [`sources`] adapter → [`event::Event`] → [`rules`] (meeting state) → incident →
//! [`store`] → output. [`detect`] finds patient data in any text on the way.

pub mod detect;
pub mod event;
pub mod sources;
