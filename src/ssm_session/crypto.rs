//! KMS session encryption: a 64-byte data key from kms:GenerateDataKey, the
//! client decrypting with its first half and encrypting with its second;
//! AES-256-GCM with a random 12-byte nonce in front (plugin `encryption/`,
//! agent `session/crypto/blockcipher.go`).

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};

pub const DATA_KEY_BYTES: i32 = 64;
const NONCE: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the KMS data key has {0} bytes, not 64")]
    KeySize(usize),
    #[error("an encrypted payload failed to decrypt (wrong key or corrupted)")]
    Open,
}

pub struct Cipher {
    encrypt: Aes256Gcm,
    decrypt: Aes256Gcm,
}

impl Cipher {
    pub fn from_data_key(plaintext: &[u8]) -> Result<Cipher, CryptoError> {
        if plaintext.len() != DATA_KEY_BYTES as usize {
            return Err(CryptoError::KeySize(plaintext.len()));
        }
        let (decrypt, encrypt) = plaintext.split_at(32);
        Ok(Cipher {
            encrypt: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(encrypt)),
            decrypt: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(decrypt)),
        })
    }

    /// nonce ‖ ciphertext ‖ tag, with the client's encryption half.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.encrypt.encrypt(&nonce, plain).expect("AES-GCM encryption of a payload cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what the agent sealed with its encryption half (our decryption half).
    pub fn open(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if data.len() < NONCE {
            return Err(CryptoError::Open);
        }
        let (nonce, sealed) = data.split_at(NONCE);
        self.decrypt.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_one_side_seals_the_other_opens() {
        let key: Vec<u8> = (0..64).collect();
        let client = Cipher::from_data_key(&key).unwrap();
        // The agent's halves are the other way round.
        let mut swapped = key[32..].to_vec();
        swapped.extend_from_slice(&key[..32]);
        let agent = Cipher::from_data_key(&swapped).unwrap();
        let sealed = client.seal(b"ls -l\n");
        assert_eq!(sealed.len(), 12 + 6 + 16);
        assert_eq!(agent.open(&sealed).unwrap(), b"ls -l\n");
        assert_eq!(client.open(&agent.seal(b"out")).unwrap(), b"out");
        // Our own frames do not open with our decryption half.
        assert_eq!(client.open(&sealed), Err(CryptoError::Open));
        assert_eq!(Cipher::from_data_key(&key[..32]).err(), Some(CryptoError::KeySize(32)));
    }
}
