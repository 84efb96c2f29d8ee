use crate::CryptoError;

/// `N` bytes from the operating system's cryptographic random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}
