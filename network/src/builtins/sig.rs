//! `sig`: the serving peer's identity and Ed25519 signatures with its key.
//!
//! `sign` answers the Aqua record `SignResult {success: bool, error: ?string,
//! signature: ?[]u8}`, its optional fields in Aqua's option encoding (`[]` or `[x]`).
//! The reference peer signs only data produced by certain registry functions; here the
//! rule is simpler: a peer signs only for particles it initiated itself, so nobody else
//! can make it sign arbitrary bytes.

use super::args::Args;
use super::{CallContext, Outcome};
use ed25519_dalek::{Signature, SigningKey, Verifier};
use serde_json::{Value, json};

pub(super) fn call(function: &str, a: &Args<'_>, ctx: &CallContext<'_>) -> Outcome {
    let r = match function {
        "get_peer_id" => a.exactly(0).map(|()| Value::from(ctx.peer_id)),
        "sign" => sign(a, ctx),
        "verify" => verify(a, ctx),
        _ => return Outcome::NotFound,
    };
    r.into()
}

fn sign(a: &Args<'_>, ctx: &CallContext<'_>) -> Result<Value, String> {
    a.exactly(1)?;
    let data = a.bytes(0)?;
    if ctx.init_peer_id != ctx.peer_id {
        let e = format!(
            "sig.sign: peer {} signs only for particles it initiated; this particle was initiated by {}",
            ctx.peer_id, ctx.init_peer_id
        );
        return Ok(json!({"success": false, "error": [e], "signature": []}));
    }
    Ok(json!({"success": true, "error": [], "signature": [ctx.key.sign(&data).to_vec()]}))
}

/// `verify(signature, data)`: whether `signature` is this peer's signature of `data`.
/// A signature of the wrong length is simply not valid.
fn verify(a: &Args<'_>, ctx: &CallContext<'_>) -> Result<Value, String> {
    a.exactly(2)?;
    let (signature, data) = (a.bytes(0)?, a.bytes(1)?);
    let Ok(signature) = <[u8; 64]>::try_from(signature.as_slice()) else { return Ok(Value::Bool(false)) };
    let public = SigningKey::from_bytes(&ctx.key.secret()).verifying_key();
    Ok(Value::Bool(public.verify(&data, &Signature::from_bytes(&signature)).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use air_vm::sign::KeyPair;

    fn signature(v: &Value) -> Value {
        assert_eq!(v["success"], json!(true), "{v}");
        assert_eq!(v["error"], json!([]));
        let [sig] = v["signature"].as_array().unwrap().as_slice() else { panic!("{v}") };
        assert_eq!(sig.as_array().unwrap().len(), 64);
        sig.clone()
    }

    #[test]
    fn get_peer_id_is_the_serving_peer() {
        let f = Fixture::new();
        assert_eq!(f.call("sig", "get_peer_id", json!([])), Outcome::Ok(json!(f.peer_id)));
        assert_eq!(err("sig", "get_peer_id", json!([1])), "sig.get_peer_id: expected 0 arguments, got 1 argument");
    }

    #[test]
    fn sign_then_verify() {
        let data = json!([1, 2, 3]);
        let sig = signature(&ok("sig", "sign", json!([data])));
        assert_eq!(sig, json!(KeyPair::derive("me", 1).sign(&[1, 2, 3]).to_vec()), "deterministic Ed25519");
        assert_eq!(ok("sig", "verify", json!([sig, data])), json!(true));
        assert_eq!(ok("sig", "verify", json!([sig, [1, 2, 4]])), json!(false));
        let mut bad = sig.as_array().unwrap().clone();
        bad[0] = json!((bad[0].as_u64().unwrap() + 1) % 256);
        assert_eq!(ok("sig", "verify", json!([bad, data])), json!(false));
        assert_eq!(ok("sig", "verify", json!([[1, 2], data])), json!(false), "wrong length");
        assert_eq!(ok("sig", "verify", json!([[], []])), json!(false));
        let empty = signature(&ok("sig", "sign", json!([[]])));
        assert_eq!(ok("sig", "verify", json!([empty, []])), json!(true));
    }

    #[test]
    fn another_peers_signature_does_not_verify() {
        let other = KeyPair::derive("other", 1).sign(b"x").to_vec();
        assert_eq!(ok("sig", "verify", json!([other, b"x".to_vec()])), json!(false));
    }

    #[test]
    fn sign_refuses_particles_of_other_peers() {
        let mut f = Fixture::new();
        f.init_peer_id = "12D3KooWsomeoneelse".to_owned();
        let Outcome::Ok(v) = f.call("sig", "sign", json!([[1]])) else { panic!() };
        assert_eq!(v["success"], json!(false));
        assert_eq!(v["signature"], json!([]));
        let msg = v["error"][0].as_str().unwrap();
        assert!(msg.starts_with("sig.sign: peer 12D3KooW") && msg.ends_with("initiated by 12D3KooWsomeoneelse"), "{msg}");
        // Verifying needs no permission.
        let sig = KeyPair::derive("me", 1).sign(&[1]).to_vec();
        assert_eq!(f.call("sig", "verify", json!([sig, [1]])), Outcome::Ok(json!(true)));
    }

    #[test]
    fn argument_errors() {
        assert_eq!(err("sig", "sign", json!([])), "sig.sign: expected 1 argument, got 0 arguments");
        assert_eq!(err("sig", "sign", json!(["abc"])), "sig.sign: argument 1 must be an array, got a string");
        assert!(err("sig", "sign", json!([[256]])).contains("element 0 is the number 256"));
        assert_eq!(err("sig", "verify", json!([[1]])), "sig.verify: expected 2 arguments, got 1 argument");
        assert!(err("sig", "verify", json!([[1], [-1]])).starts_with("sig.verify: argument 2 must be an array of bytes"));
    }
}
