//! The compound commands: what the CLI adds on top of the API calls, one
//! file each, each with its row in [`crate::registry`].

pub mod copy;
pub mod deprecated;
pub mod fs;
pub mod glob;
pub mod inspect;
pub mod inspect_xml;
pub mod launch;
pub mod local;
pub mod makefs;
