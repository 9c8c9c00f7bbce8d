//! WAV files as bytes: reading and writing 8 kHz mono audio as 16-bit PCM, µ-law or A-law.
//!
//! These are the formats telephony prompts come in, and the ones a call can play without
//! resampling. [`Wav::parse`] walks the RIFF chunks (skipping ones it does not know, such
//! as `LIST` and `fact`), checks every size against the bytes present, and reports other
//! formats (44.1 kHz, stereo, float, ADPCM, ...) as [`WavError::Unsupported`] naming what
//! the file holds; there is no resampling. [`Wav::to_bytes`] writes the canonical layout.
//! File access belongs to the caller.

use thiserror::Error;

use crate::g711::Law;

/// The sample rate of every WAV this module reads or writes.
pub const SAMPLE_RATE: u32 = 8000;

const TAG_PCM: u16 = 1;
const TAG_ALAW: u16 = 6;
const TAG_MULAW: u16 = 7;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// Why bytes are not a WAV file this module can read, or audio too long to write.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WavError {
    #[error("not a RIFF file: the first four bytes are not 'RIFF'")]
    NotRiff,
    #[error("not a WAVE file: the RIFF form type is not 'WAVE'")]
    NotWave,
    #[error("truncated WAV: {what} needs {needed} bytes but only {available} are left")]
    Truncated { what: &'static str, needed: usize, available: usize },
    #[error("WAV file has no '{0}' chunk")]
    MissingChunk(&'static str),
    #[error("WAV 'fmt ' chunk is {len} bytes, shorter than the 16 bytes of its fixed part")]
    ShortFmt { len: usize },
    #[error("WAV block align is {block_align}, but {channels} channel(s) of {bits} bits need {expected}")]
    BadBlockAlign { block_align: u16, channels: u16, bits: u16, expected: u32 },
    #[error("WAV 'data' chunk of {len} bytes is not a whole number of {block_align}-byte samples")]
    OddDataSize { len: usize, block_align: u16 },
    #[error(
        "unsupported WAV format: {}, {bits} bits, {sample_rate} Hz, {channels} channel(s); \
         only 8000 Hz mono 16-bit PCM, µ-law or A-law can be read",
        format_name(*.format_tag)
    )]
    Unsupported { format_tag: u16, channels: u16, sample_rate: u32, bits: u16 },
    #[error("audio of {len} bytes is too long for a WAV file")]
    TooLong { len: usize },
}

fn format_name(tag: u16) -> String {
    match tag {
        TAG_PCM => "PCM".to_owned(),
        3 => "IEEE float".to_owned(),
        TAG_ALAW => "A-law".to_owned(),
        TAG_MULAW => "µ-law".to_owned(),
        0x11 => "IMA ADPCM".to_owned(),
        0x55 => "MP3".to_owned(),
        other => format!("format tag {other:#06x}"),
    }
}

/// The audio of a WAV file: 8 kHz mono in one of three encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wav {
    /// Signed 16-bit linear samples (format tag 1).
    Pcm16(Vec<i16>),
    /// G.711 codes (format tag 7 for µ-law, 6 for A-law).
    G711 { law: Law, samples: Vec<u8> },
}

/// The parts of a 'fmt ' chunk that decide the format.
#[derive(Debug, Clone, Copy)]
struct Fmt {
    tag: u16,
    channels: u16,
    sample_rate: u32,
    block_align: u16,
    bits: u16,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Wav {
    /// Reads a WAV file from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
        if bytes.len() < 12 {
            if bytes.len() >= 4 && &bytes[..4] != b"RIFF" {
                return Err(WavError::NotRiff);
            }
            return Err(WavError::Truncated { what: "the RIFF header", needed: 12, available: bytes.len() });
        }
        if &bytes[..4] != b"RIFF" {
            return Err(WavError::NotRiff);
        }
        if &bytes[8..12] != b"WAVE" {
            return Err(WavError::NotWave);
        }
        let riff_len = u32_at(bytes, 4) as usize;
        let available = bytes.len() - 8;
        if riff_len > available {
            return Err(WavError::Truncated { what: "the RIFF chunk", needed: riff_len, available });
        }
        let mut rest = &bytes[12..8 + riff_len.max(4)];
        let mut fmt = None;
        let mut data = None;
        while !rest.is_empty() {
            if rest.len() < 8 {
                return Err(WavError::Truncated { what: "a chunk header", needed: 8, available: rest.len() });
            }
            let id = [rest[0], rest[1], rest[2], rest[3]];
            let len = u32_at(rest, 4) as usize;
            let body_available = rest.len() - 8;
            let what = match &id {
                b"fmt " => "the 'fmt ' chunk",
                b"data" => "the 'data' chunk",
                _ => "a chunk",
            };
            let body = rest.get(8..8usize.saturating_add(len)).ok_or(WavError::Truncated {
                what,
                needed: len,
                available: body_available,
            })?;
            match &id {
                b"fmt " if fmt.is_none() => fmt = Some(parse_fmt(body)?),
                b"data" if data.is_none() => data = Some(body),
                _ => {}
            }
            // Chunks are padded to an even length; tolerate a missing pad byte at the end.
            let next = (8 + len + (len & 1)).min(rest.len());
            rest = &rest[next..];
        }
        let fmt = fmt.ok_or(WavError::MissingChunk("fmt "))?;
        let data = data.ok_or(WavError::MissingChunk("data"))?;
        let unsupported = WavError::Unsupported {
            format_tag: fmt.tag,
            channels: fmt.channels,
            sample_rate: fmt.sample_rate,
            bits: fmt.bits,
        };
        if fmt.channels != 1 || fmt.sample_rate != SAMPLE_RATE {
            return Err(unsupported);
        }
        let law = match (fmt.tag, fmt.bits) {
            (TAG_PCM, 16) => None,
            (TAG_MULAW, 8) => Some(Law::MuLaw),
            (TAG_ALAW, 8) => Some(Law::ALaw),
            _ => return Err(unsupported),
        };
        let expected = u32::from(fmt.channels) * u32::from(fmt.bits) / 8;
        if u32::from(fmt.block_align) != expected {
            return Err(WavError::BadBlockAlign {
                block_align: fmt.block_align,
                channels: fmt.channels,
                bits: fmt.bits,
                expected,
            });
        }
        Ok(match law {
            None => {
                if data.len() % 2 != 0 {
                    return Err(WavError::OddDataSize { len: data.len(), block_align: 2 });
                }
                Wav::Pcm16(data.chunks_exact(2).map(|s| i16::from_le_bytes([s[0], s[1]])).collect())
            }
            Some(law) => Wav::G711 { law, samples: data.to_vec() },
        })
    }

    /// Writes the audio as a WAV file: `RIFF`, `fmt ` (with a `fact` chunk for G.711, as
    /// the format requires for non-PCM data) and `data`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WavError> {
        let (tag, bits, data_len, fmt_len, fact) = match self {
            Wav::Pcm16(s) => (TAG_PCM, 16u16, s.len().saturating_mul(2), 16u32, None),
            Wav::G711 { law, samples } => {
                let tag = if *law == Law::MuLaw { TAG_MULAW } else { TAG_ALAW };
                (tag, 8, samples.len(), 18, Some(samples.len()))
            }
        };
        let pad = data_len & 1;
        let fact_len = if fact.is_some() { 12 } else { 0 };
        let riff_len = 4 + (8 + fmt_len as usize) + fact_len + 8 + data_len + pad;
        let riff_len32 = u32::try_from(riff_len).map_err(|_| WavError::TooLong { len: data_len })?;
        // Fits because the whole RIFF length does.
        let data_len32 = data_len as u32;
        let block_align = bits / 8;
        let mut out = Vec::with_capacity(riff_len + 8);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&riff_len32.to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&fmt_len.to_le_bytes());
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        out.extend_from_slice(&(SAMPLE_RATE * u32::from(block_align)).to_le_bytes());
        out.extend_from_slice(&block_align.to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        if let Some(samples) = fact {
            // cbSize: no extra format bytes.
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(b"fact");
            out.extend_from_slice(&4u32.to_le_bytes());
            out.extend_from_slice(&(samples as u32).to_le_bytes());
        }
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len32.to_le_bytes());
        match self {
            Wav::Pcm16(s) => s.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Wav::G711 { samples, .. } => out.extend_from_slice(samples),
        }
        if pad == 1 {
            out.push(0);
        }
        Ok(out)
    }

    /// Writes two tracks as a stereo 16-bit PCM WAV file at 8 kHz: `left` in the first
    /// channel, `right` in the second; the shorter track is padded with silence. Call
    /// recordings use it to keep each party on a channel of its own.
    pub fn stereo_pcm16(left: &[i16], right: &[i16]) -> Result<Vec<u8>, WavError> {
        let frames = left.len().max(right.len());
        let data_len = frames.saturating_mul(4);
        let riff_len = u32::try_from(4 + 24 + 8 + data_len).map_err(|_| WavError::TooLong { len: data_len })?;
        let mut out = Vec::with_capacity(data_len + 44);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&riff_len.to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&TAG_PCM.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        out.extend_from_slice(&(SAMPLE_RATE * 4).to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        // Fits because the RIFF length does.
        out.extend_from_slice(&(data_len as u32).to_le_bytes());
        for i in 0..frames {
            out.extend_from_slice(&left.get(i).copied().unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&right.get(i).copied().unwrap_or(0).to_le_bytes());
        }
        Ok(out)
    }

    /// The audio as G.711 codes of `law`, encoding or transcoding through linear PCM if
    /// needed (what a [`crate::Player`] takes).
    pub fn to_g711(&self, law: Law) -> Vec<u8> {
        match self {
            Wav::Pcm16(s) => s.iter().map(|&x| law.encode(x)).collect(),
            Wav::G711 { law: from, samples } if *from == law => samples.clone(),
            Wav::G711 { law: from, samples } => samples.iter().map(|&c| law.encode(from.decode(c))).collect(),
        }
    }

    /// The number of samples (at 8 kHz, so `len() / 8` is the length in milliseconds).
    pub fn len(&self) -> usize {
        match self {
            Wav::Pcm16(s) => s.len(),
            Wav::G711 { samples, .. } => samples.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn parse_fmt(body: &[u8]) -> Result<Fmt, WavError> {
    if body.len() < 16 {
        return Err(WavError::ShortFmt { len: body.len() });
    }
    let mut tag = u16_at(body, 0);
    // WAVE_FORMAT_EXTENSIBLE keeps the real tag in the first two bytes of its sub-format
    // GUID, 24 bytes into the chunk.
    if tag == TAG_EXTENSIBLE && body.len() >= 40 {
        tag = u16_at(body, 24);
    }
    Ok(Fmt {
        tag,
        channels: u16_at(body, 2),
        sample_rate: u32_at(body, 4),
        block_align: u16_at(body, 12),
        bits: u16_at(body, 14),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_recordings_interleave_the_tracks_and_pad_the_shorter() {
        let bytes = Wav::stereo_pcm16(&[1, 2, 3], &[-1]).unwrap();
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(u32_at(&bytes, 4) as usize, bytes.len() - 8);
        assert_eq!(u16_at(&bytes, 22), 2, "two channels");
        assert_eq!(u32_at(&bytes, 28), 32_000, "bytes per second");
        assert_eq!(u32_at(&bytes, 40), 12, "three frames of two samples");
        let samples: Vec<i16> = bytes[44..].chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(samples, [1, -1, 2, 0, 3, 0]);
        // A stereo file is not one Switchboard plays.
        assert!(Wav::parse(&bytes).is_err());
    }

    /// Builds a WAV file from raw chunks, with a correct RIFF length.
    fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, data) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend(body);
        out
    }

    fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut f = Vec::new();
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    #[test]
    fn round_trips_all_three_formats() {
        let cases = [
            Wav::Pcm16(vec![0, 1, -1, i16::MAX, i16::MIN, 1234]),
            Wav::G711 { law: Law::MuLaw, samples: vec![0xFF, 0x00, 0x80, 0x7E, 0x12] },
            Wav::G711 { law: Law::ALaw, samples: vec![0xD5, 0x55, 0xAA, 0x2A] },
            Wav::Pcm16(Vec::new()),
        ];
        for wav in cases {
            let bytes = wav.to_bytes().unwrap();
            assert_eq!(bytes.len() % 2, 0);
            assert_eq!(Wav::parse(&bytes), Ok(wav));
        }
    }

    #[test]
    fn writes_the_canonical_pcm_header() {
        let bytes = Wav::Pcm16(vec![1, 2]).to_bytes().unwrap();
        let mut expect = b"RIFF".to_vec();
        expect.extend_from_slice(&40u32.to_le_bytes());
        expect.extend_from_slice(b"WAVEfmt ");
        expect.extend_from_slice(&[16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0]);
        expect.extend_from_slice(b"data");
        expect.extend_from_slice(&[4, 0, 0, 0, 1, 0, 2, 0]);
        assert_eq!(bytes, expect);
    }

    #[test]
    fn reads_hand_made_headers_with_extra_chunks() {
        let bytes = riff(&[
            (b"LIST", b"INFOxyz".to_vec()),
            (b"data", vec![0xD5, 0x55, 0xD5]),
            (b"fmt ", [fmt(6, 1, 8000, 8), vec![0, 0]].concat()),
        ]);
        assert_eq!(Wav::parse(&bytes), Ok(Wav::G711 { law: Law::ALaw, samples: vec![0xD5, 0x55, 0xD5] }));
    }

    #[test]
    fn reads_wave_format_extensible() {
        let mut f = fmt(TAG_EXTENSIBLE, 1, 8000, 16);
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&16u16.to_le_bytes());
        f.extend_from_slice(&4u32.to_le_bytes());
        f.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
        let bytes = riff(&[(b"fmt ", f), (b"data", vec![5, 0])]);
        assert_eq!(Wav::parse(&bytes), Ok(Wav::Pcm16(vec![5])));
    }

    fn check_err(bytes: &[u8], expect: &str) {
        let err = Wav::parse(bytes).unwrap_err();
        assert_eq!(err.to_string(), expect);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        check_err(b"RIF", "truncated WAV: the RIFF header needs 12 bytes but only 3 are left");
        check_err(b"RIFX\0\0\0\0WAVE", "not a RIFF file: the first four bytes are not 'RIFF'");
        check_err(b"RIFF\x04\0\0\0AVI ", "not a WAVE file: the RIFF form type is not 'WAVE'");
        check_err(&riff(&[(b"data", vec![0, 0])]), "WAV file has no 'fmt ' chunk");
        check_err(&riff(&[(b"fmt ", fmt(1, 1, 8000, 16))]), "WAV file has no 'data' chunk");
        check_err(
            &riff(&[(b"fmt ", vec![1, 0, 1, 0]), (b"data", vec![])]),
            "WAV 'fmt ' chunk is 4 bytes, shorter than the 16 bytes of its fixed part",
        );
        check_err(
            &riff(&[(b"fmt ", fmt(1, 1, 8000, 16)), (b"data", vec![1, 2, 3])]),
            "WAV 'data' chunk of 3 bytes is not a whole number of 2-byte samples",
        );
        check_err(
            &riff(&[(b"fmt ", fmt(1, 2, 44100, 16)), (b"data", vec![])]),
            "unsupported WAV format: PCM, 16 bits, 44100 Hz, 2 channel(s); \
             only 8000 Hz mono 16-bit PCM, µ-law or A-law can be read",
        );
        check_err(
            &riff(&[(b"fmt ", fmt(3, 1, 8000, 32)), (b"data", vec![])]),
            "unsupported WAV format: IEEE float, 32 bits, 8000 Hz, 1 channel(s); \
             only 8000 Hz mono 16-bit PCM, µ-law or A-law can be read",
        );
        let mut bad_align = fmt(7, 1, 8000, 8);
        bad_align[12] = 2;
        check_err(
            &riff(&[(b"fmt ", bad_align), (b"data", vec![])]),
            "WAV block align is 2, but 1 channel(s) of 8 bits need 1",
        );
    }

    #[test]
    fn truncated_files_are_errors() {
        let bytes = Wav::Pcm16(vec![7; 100]).to_bytes().unwrap();
        // Every strict prefix fails, either in the RIFF length or in a chunk.
        for cut in 0..bytes.len() {
            assert!(Wav::parse(&bytes[..cut]).is_err(), "prefix of {cut} bytes parsed");
        }
        // A RIFF length that claims less than the data chunk needs.
        let mut short = bytes.clone();
        short[4..8].copy_from_slice(&100u32.to_le_bytes());
        check_err(&short, "truncated WAV: the 'data' chunk needs 200 bytes but only 64 are left");
    }

    #[test]
    fn converts_to_g711() {
        let pcm = Wav::Pcm16(vec![0, 8, -8]);
        assert_eq!(pcm.to_g711(Law::MuLaw), [0xFF, 0xFE, 0x7E]);
        let alaw = Wav::G711 { law: Law::ALaw, samples: vec![0xD5, 0x55] };
        assert_eq!(alaw.to_g711(Law::ALaw), [0xD5, 0x55]);
        assert_eq!(alaw.to_g711(Law::MuLaw), [0xFE, 0x7E]);
        assert_eq!(alaw.len(), 2);
    }
}
