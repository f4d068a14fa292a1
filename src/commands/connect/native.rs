//! `connect` through the built-in data-channel client: the session, then the
//! remote exit status turned into ours.

use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::model::task::ExecSession;
use crate::ssm_session::exit_marker::ExitMarker;
use crate::ssm_session::{self, Ended, KmsContext, Session};

pub async fn session(aws: &Aws, exec: &ExecSession, target_id: String, marker: Option<ExitMarker>) -> Result<()> {
    let wants_status = marker.is_some();
    let session = Session {
        stream_url: exec.stream_url.clone(),
        token_value: exec.token_value.clone(),
        kms: Some(KmsContext { kms: aws.kms.clone(), session_id: exec.session_id.clone(), target_id }),
        marker: marker.map(|m| m.filter()),
    };
    let Ended::Closed { status } = ssm_session::run(session).await?;
    match status {
        Some(0) => Ok(()),
        Some(code) => Err(Error::RemoteExited(code)),
        None if wants_status => Err(Error::DataChannel(
            "the session ended without the command's exit status (its marker line never came back)".into(),
        )),
        None => Ok(()),
    }
}
