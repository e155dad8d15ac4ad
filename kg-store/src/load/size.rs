//! Byte sizes as people write them (`4G`, `512M`, `1.5GiB`, `100k`, plain bytes): the loader's
//! `--memory-limit` and the other memory budgets of the command line.

/// `4G`, `512M`, `100k` or plain bytes; units are powers of 1024, with or without `B` or `iB`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&text[..i], text[i..].to_ascii_lowercase()),
        None => (text, String::new()),
    };
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size (examples: 4G, 512M, 1000000)"))?;
    let scale = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0_f64.powi(4),
        _ => return Err(format!("unknown size unit in {text:?} (use K, M, G or T)")),
    };
    Ok((number * scale) as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3Q").is_err());
    }
}
