//! The agent's handshake: HandshakeRequest (SessionType, KMSEncryption) answered
//! with a HandshakeResponse, the encryption challenge, HandshakeComplete (agent
//! `session/datachannel/datachannel.go` PerformHandshake; plugin `handshakemessage.go`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::crypto::{Cipher, DATA_KEY_BYTES};
use crate::aws::kms::Kms;

const SUCCESS: u8 = 1;
/// The session-manager-plugin release whose protocol cruddur speaks, as the
/// HandshakeResponse's ClientVersion. The agent picks behaviours by it: separate
/// stderr (after 1.2.295), multiplexed port sessions (1.1.70 and later), smux
/// without keepalive (after 1.2.331.0); cruddur does all three.
pub const CLIENT_VERSION: &str = "1.2.650.0";
const FAILED: u8 = 2;

/// What encrypting a session needs besides the key id the agent names.
pub struct KmsContext {
    pub kms: Kms,
    pub session_id: String,
    pub target_id: String,
}

#[derive(Deserialize)]
struct Request {
    #[serde(rename = "AgentVersion", default)]
    agent_version: String,
    #[serde(rename = "RequestedClientActions", default)]
    actions: Vec<Action>,
}

#[derive(Deserialize)]
struct Action {
    #[serde(rename = "ActionType")]
    action_type: String,
    #[serde(rename = "ActionParameters", default)]
    parameters: Value,
}

pub struct Answer {
    pub response: Vec<u8>,
    pub cipher: Option<Cipher>,
    pub session_type: Option<String>,
    pub agent_version: String,
}

/// Builds the HandshakeResponse; a KMS failure is reported to the agent in the
/// response and returned, so the session ends saying why.
pub async fn answer(request: &[u8], kms: Option<&KmsContext>) -> Result<Answer, String> {
    let req: Request =
        serde_json::from_slice(request).map_err(|e| format!("the agent's HandshakeRequest is not valid JSON: {e}"))?;
    let mut processed = Vec::new();
    let mut errors = Vec::new();
    let mut cipher = None;
    let mut session_type = None;
    for action in &req.actions {
        let (status, result, error) = match action.action_type.as_str() {
            "SessionType" => {
                session_type = action.parameters.get("SessionType").and_then(Value::as_str).map(str::to_string);
                (SUCCESS, Value::Null, String::new())
            }
            "KMSEncryption" => match data_key(&action.parameters, kms).await {
                Ok((c, blob)) => {
                    cipher = Some(c);
                    (SUCCESS, json!({ "KMSCipherTextKey": STANDARD.encode(blob) }), String::new())
                }
                Err(e) => {
                    errors.push(e.clone());
                    (FAILED, Value::Null, format!("Failed to process action KMSEncryption: {e}"))
                }
            },
            other => {
                let e = format!("unsupported action {other}");
                errors.push(e.clone());
                (FAILED, Value::Null, e)
            }
        };
        processed.push(
            json!({"ActionType": action.action_type, "ActionStatus": status, "ActionResult": result, "Error": error}),
        );
    }
    let response = json!({
        "ClientVersion": CLIENT_VERSION,
        "ProcessedClientActions": processed,
        "Errors": errors,
    });
    if let Some(first) = errors.first() {
        return Err(first.clone());
    }
    Ok(Answer { response: response.to_string().into_bytes(), cipher, session_type, agent_version: req.agent_version })
}

async fn data_key(params: &Value, kms: Option<&KmsContext>) -> Result<(Cipher, Vec<u8>), String> {
    let key_id = params.get("KMSKeyId").and_then(Value::as_str).ok_or("the KMSEncryption action names no KMSKeyId")?;
    let ctx = kms.ok_or("KMS encryption was requested but no KMS client is configured")?;
    let context = [("aws:ssm:SessionId", ctx.session_id.as_str()), ("aws:ssm:TargetId", ctx.target_id.as_str())];
    let key = ctx.kms.generate_data_key(key_id, &context, DATA_KEY_BYTES).await.map_err(|e| e.to_string())?;
    let cipher = Cipher::from_data_key(&key.plaintext).map_err(|e| e.to_string())?;
    Ok((cipher, key.ciphertext))
}

/// EncChallengeResponse: the agent's challenge, opened and sealed again with our half.
pub fn challenge_response(request: &[u8], cipher: &Cipher) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(request).map_err(|e| format!("EncChallengeRequest: {e}"))?;
    let sealed = v.get("Challenge").and_then(Value::as_str).ok_or("EncChallengeRequest has no Challenge")?;
    let sealed = STANDARD.decode(sealed).map_err(|e| format!("EncChallengeRequest: {e}"))?;
    let plain = cipher.open(&sealed).map_err(|e| format!("the encryption challenge: {e}"))?;
    Ok(json!({ "Challenge": STANDARD.encode(cipher.seal(&plain)) }).to_string().into_bytes())
}

/// HandshakeComplete's CustomerMessage, if any.
pub fn customer_message(payload: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    v.get("CustomerMessage").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_a_session_type_request() {
        let req = br#"{"AgentVersion":"3.3.0.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"InteractiveCommands","Properties":{}}}]}"#;
        let a = answer(req, None).await.unwrap();
        assert!(a.cipher.is_none());
        assert_eq!(a.session_type.as_deref(), Some("InteractiveCommands"));
        let v: Value = serde_json::from_slice(&a.response).unwrap();
        assert_eq!(v["ProcessedClientActions"][0]["ActionType"], "SessionType");
        assert_eq!(v["ProcessedClientActions"][0]["ActionStatus"], 1);
        assert_eq!(v["Errors"], json!([]));
    }

    #[tokio::test]
    async fn kms_without_a_client_fails_saying_so() {
        let req = br#"{"RequestedClientActions":[{"ActionType":"KMSEncryption","ActionParameters":{"KMSKeyId":"k"}}]}"#;
        let err = answer(req, None).await.err().unwrap();
        assert!(err.contains("no KMS client"), "{err}");
    }

    #[test]
    fn customer_message_is_read() {
        assert_eq!(customer_message(br#"{"HandshakeTimeToComplete":1,"CustomerMessage":"hi"}"#).as_deref(), Some("hi"));
        assert_eq!(customer_message(br#"{"CustomerMessage":""}"#), None);
    }
}
