//! OpenSSL's traditional encrypted PEM keys: an `RSA PRIVATE KEY` or
//! `EC PRIVATE KEY` block with `Proc-Type: 4,ENCRYPTED` and
//! `DEK-Info: <cipher>,<iv hex>` headers (what `openssl rsa -aes256 -traditional`
//! and older tools write). AES-128/192/256-CBC and DES-EDE3-CBC are decrypted.

use zeroize::Zeroizing;

/// Why a traditional key could not be decrypted.
pub(super) enum TraditionalError {
    /// The padding is wrong: the passphrase is.
    Unpad,
    /// The cipher or its parameters are not supported.
    Unsupported(String),
}

/// Decrypts a traditional OpenSSL encrypted PEM body (`DEK-Info: <cipher>,<iv hex>`):
/// key = EVP_BytesToKey(MD5, salt = the IV's first 8 bytes, 1 iteration), CBC, PKCS#7.
pub(super) fn decrypt_traditional(
    dek_info: &str,
    passphrase: &[u8],
    ciphertext: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, TraditionalError> {
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};

    let (cipher, iv_hex) = dek_info
        .split_once(',')
        .ok_or_else(|| TraditionalError::Unsupported(format!("DEK-Info '{dek_info}'")))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let iv = hex::decode(iv_hex.trim())
        .map_err(|_| TraditionalError::Unsupported(format!("DEK-Info '{dek_info}'")))?;
    let (key_len, iv_len) = match cipher.as_str() {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        other => return Err(TraditionalError::Unsupported(other.to_string())),
    };
    if iv.len() != iv_len {
        return Err(TraditionalError::Unsupported(format!(
            "DEK-Info '{dek_info}': the IV is not {iv_len} bytes"
        )));
    }
    // OpenSSL's salt is the IV's first 8 bytes (every supported IV is 8 or 16).
    let key = evp_bytes_to_key(passphrase, iv.get(..8).unwrap_or(&iv), key_len);
    let bad_len = |_| TraditionalError::Unsupported(format!("DEK-Info '{dek_info}'"));
    let plain = match cipher.as_str() {
        "AES-128-CBC" => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        "AES-192-CBC" => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        "AES-256-CBC" => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        _ => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
    };
    plain
        .map(Zeroizing::new)
        .map_err(|_| TraditionalError::Unpad)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration:
/// D_i = MD5(D_{i-1} || passphrase || salt), key = D_1 || D_2 || ... truncated.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
    use md5::{Digest, Md5};

    let mut key = Zeroizing::new(Vec::with_capacity(key_len + 16));
    let mut previous = Zeroizing::new([0u8; 16]);
    let mut first = true;
    while key.len() < key_len {
        let mut hasher = Md5::new();
        if !first {
            hasher.update(previous.as_slice());
        }
        hasher.update(passphrase);
        hasher.update(salt);
        previous.copy_from_slice(&hasher.finalize());
        key.extend_from_slice(previous.as_slice());
        first = false;
    }
    key.truncate(key_len);
    key
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -S 0102030405060708 -pass pass:secret`
        // prints key=... ; checked against the CLI when it is installed.
        let key = evp_bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let out = Command::new("openssl")
            .args([
                "enc",
                "-aes-256-cbc",
                "-P",
                "-md",
                "md5",
                "-S",
                "0102030405060708",
                "-pass",
                "pass:secret",
            ])
            .output();
        let Ok(out) = out else {
            eprintln!("skipped: the openssl CLI is not installed");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let want = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("key="))
            .unwrap()
            .to_ascii_lowercase();
        assert_eq!(hex::encode(key.as_slice()), want);
    }
}
