//! G.711 companding: µ-law and A-law between 16-bit linear PCM and 8-bit codes.
//!
//! ITU-T G.711 (11/88) defines both laws on 14-bit (µ-law) and 13-bit (A-law) linear
//! samples as segmented piecewise-linear curves of 8 segments with 16 steps each. These
//! functions work on 16-bit samples, scaled by 4 (µ-law) and 8 (A-law) relative to the
//! standard's tables, which is how telephony software usually exchanges PCM. The formulas
//! below follow the tables of G.711 (Tables 1a/1b for A-law, 2a/2b for µ-law), where the
//! decoder output of each step is given:
//!
//! - µ-law: a code's complement holds sign `s`, segment `e` (3 bits) and step `m` (4 bits);
//!   its 14-bit magnitude is `((2m + 33) << e) - 33`, so 16-bit is four times that:
//!   `(((m << 3) + 132) << e) - 132`. Code 0xFF is +0 and 0x7F is -0; 0x80/0x00 are
//!   ±8031 (±32124 scaled).
//! - A-law: a code XOR 0x55 (the even bits are inverted on the line) holds sign (1 =
//!   positive), segment `e` and step `m`; the 13-bit decision value is `2m + 1` in segment 0
//!   and `(2m + 33) << (e - 1)` above, times 8 for 16-bit. 0xD5 is +8 and 0x55 is -8.
//!
//! Encoding picks the code whose interval contains the sample (truncation towards zero
//! within a step, as the standard's decision levels prescribe), so `encode(decode(c)) == c`
//! for every code except µ-law's negative zero 0x7F, which encodes back as positive zero
//! 0xFF because both decode to 0.

/// Which G.711 law a stream of 8-bit samples uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, RTP static payload type 0 (PCMU), WAV format tag 7.
    MuLaw,
    /// A-law, RTP static payload type 8 (PCMA), WAV format tag 6.
    ALaw,
}

impl Law {
    /// The code for silence (a linear 0): 0xFF for µ-law and 0xD5 for A-law.
    pub fn silence(self) -> u8 {
        match self {
            Law::MuLaw => 0xFF,
            Law::ALaw => 0xD5,
        }
    }

    /// The static RTP payload type of RFC 3551 (0 for PCMU, 8 for PCMA).
    pub fn payload_type(self) -> u8 {
        match self {
            Law::MuLaw => 0,
            Law::ALaw => 8,
        }
    }

    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::MuLaw => ulaw_encode(sample),
            Law::ALaw => alaw_encode(sample),
        }
    }

    pub fn decode(self, code: u8) -> i16 {
        match self {
            Law::MuLaw => ulaw_decode(code),
            Law::ALaw => alaw_decode(code),
        }
    }
}

/// The bias added to µ-law magnitudes (33 on the standard's 14-bit scale) so that every
/// segment's boundaries are powers of two.
const ULAW_BIAS: i32 = 132;
/// The largest biased 14-bit magnitude: the top of segment 7. Louder samples clip to it.
const ULAW_MAX_BIASED: i32 = 0x1FFF;

/// Encodes one 16-bit linear sample as a µ-law code.
pub fn ulaw_encode(sample: i16) -> u8 {
    let (magnitude, negative) = if sample < 0 { (-i32::from(sample), 0x80u8) } else { (i32::from(sample), 0x00u8) };
    // Work on the 14-bit scale of the standard; truncation matches its decision levels.
    let biased = ((magnitude >> 2) + (ULAW_BIAS >> 2)).min(ULAW_MAX_BIASED);
    // `biased` is in 33..=8191; its segment is the position of its highest bit above bit 5.
    let mut segment = 0u8;
    while segment < 7 && biased >= (0x40 << segment) {
        segment += 1;
    }
    let step = ((biased >> (segment + 1)) & 0x0F) as u8;
    // The line code is the complement of sign (1 = negative), segment and step.
    !(negative | (segment << 4) | step)
}

/// Decodes one µ-law code to a 16-bit linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    let c = !code;
    let segment = (c >> 4) & 0x07;
    let step = i32::from(c & 0x0F);
    let magnitude = (((step << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    // At most 32124, so the cast cannot truncate.
    let magnitude = magnitude as i16;
    if c & 0x80 != 0 { -magnitude } else { magnitude }
}

/// Encodes one 16-bit linear sample as an A-law code.
pub fn alaw_encode(sample: i16) -> u8 {
    // The standard's 13-bit scale; negative samples map by one's complement, so that -1..-8
    // (which truncate to -1) land in the lowest negative step like 0..7 does for positives.
    let s = i32::from(sample) >> 3;
    let (magnitude, sign) = if s >= 0 { (s, 0x80u8) } else { (-s - 1, 0x00u8) };
    // `magnitude` is in 0..=4095; segment 0 and 1 both have steps of 2, higher ones double.
    let mut segment = 0u8;
    while segment < 7 && magnitude >= (0x20 << segment) {
        segment += 1;
    }
    let step = if segment < 2 { (magnitude >> 1) & 0x0F } else { (magnitude >> segment) & 0x0F } as u8;
    (sign | (segment << 4) | step) ^ 0x55
}

/// Decodes one A-law code to a 16-bit linear sample.
pub fn alaw_decode(code: u8) -> i16 {
    let c = code ^ 0x55;
    let segment = (c >> 4) & 0x07;
    let step = i32::from(c & 0x0F);
    let magnitude = match segment {
        0 => (step << 4) + 8,
        _ => ((step << 4) + 0x108) << (segment - 1),
    };
    // At most 32256, so the cast cannot truncate.
    let magnitude = magnitude as i16;
    if c & 0x80 != 0 { magnitude } else { -magnitude }
}

/// Encodes linear samples with `law`, appending the codes to `out`.
pub fn encode_into(law: Law, samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| law.encode(s)));
}

/// Decodes codes with `law`, appending the linear samples to `out`.
pub fn decode_into(law: Law, codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| law.decode(c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_decode(law: Law, code: u8, expect: i16) {
        assert_eq!(law.decode(code), expect, "{law:?} decode of {code:#04x}");
    }

    #[test]
    fn ulaw_known_values() {
        // G.711 Table 2a: code 0xFF is +0, 0x7F is -0, 0x80 and 0x00 are ±8031 (×4).
        check_decode(Law::MuLaw, 0xFF, 0);
        check_decode(Law::MuLaw, 0x7F, 0);
        check_decode(Law::MuLaw, 0x00, -32124);
        check_decode(Law::MuLaw, 0x80, 32124);
        // Segment 0, step 1: ((2*1 + 33) << 0) - 33 = 2 on the 14-bit scale, 8 here.
        check_decode(Law::MuLaw, 0xFE, 8);
        check_decode(Law::MuLaw, 0x7E, -8);
        // Segment 1, step 0: ((0 + 33) << 1) - 33 = 33 on the 14-bit scale, 132 here.
        check_decode(Law::MuLaw, 0xEF, 132);
    }

    #[test]
    fn alaw_known_values() {
        // G.711 Table 1a: the smallest steps decode to ±1 (13-bit), ±8 here.
        check_decode(Law::ALaw, 0xD5, 8);
        check_decode(Law::ALaw, 0x55, -8);
        // Segment 7, step 15 is the largest: (2*15 + 33) << 6 = 4032 (13-bit), 32256 here.
        check_decode(Law::ALaw, 0xAA, 32256);
        check_decode(Law::ALaw, 0x2A, -32256);
        // Segment 1, step 0: (0 + 33) << 0 = 33 (13-bit), 264 here.
        check_decode(Law::ALaw, 0xC5, 264);
    }

    #[test]
    fn encode_inverts_decode_for_every_code() {
        for code in 0..=255u8 {
            let expect = if code == 0x7F { 0xFF } else { code };
            assert_eq!(ulaw_encode(ulaw_decode(code)), expect, "µ-law {code:#04x}");
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn silence_codes_decode_to_zero_ish() {
        assert_eq!(ulaw_encode(0), Law::MuLaw.silence());
        assert_eq!(alaw_encode(0), Law::ALaw.silence());
    }

    #[test]
    fn extremes_encode_to_the_largest_codes() {
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn companding_is_monotonic() {
        for law in [Law::MuLaw, Law::ALaw] {
            let mut previous = i16::MIN;
            for sample in i16::MIN..=i16::MAX {
                let value = law.decode(law.encode(sample));
                assert!(value >= previous, "{law:?}: {sample} decodes to {value} after {previous}");
                previous = value;
            }
        }
    }

    #[test]
    fn sine_round_trip_error_is_bounded() {
        for law in [Law::MuLaw, Law::ALaw] {
            for i in 0..8000 {
                let t = f64::from(i) / 8000.0;
                let x = (20000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
                let y = law.decode(law.encode(x));
                let error = (i32::from(x) - i32::from(y)).abs();
                // The decoded value is the middle of its step, and a step is at most 1/16 of
                // its segment's lower bound, so the error stays below 1/16 of the sample
                // (or a small absolute amount near zero).
                let bound = (i32::from(x).abs() / 16).max(16);
                assert!(error <= bound, "{law:?}: {x} -> {y}, error {error} > {bound}");
            }
        }
    }
}
