//! Reading and writing plain arrays and tables: `.npy` (f64 or f32, any shape, read as the flat
//! C-order vector) and whitespace-separated text (`#` starts a comment). Shapes follow DESIGN's
//! convention: C order, x fastest.

use std::fs;
use std::path::Path;

use ndarray::{ArrayD, ArrayView1};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::core::error::{Error, Result};

/// An array file's values as a flat vector in C order, with the shape stored in the file
/// (`None` for text, which has no shape).
pub struct ArrayFile {
    pub values: Vec<f64>,
    pub shape: Option<Vec<usize>>,
}

/// Reads an `.npy` or text file of numbers. `nan` is accepted here; callers that forbid it say so.
pub fn read_array(path: &Path) -> Result<ArrayFile> {
    if is_npy(path) {
        let bytes = fs::read(path).map_err(|e| Error::input(path, read_error(&e)))?;
        if let Ok(a) = ArrayD::<f64>::read_npy(&bytes[..]) {
            return Ok(ArrayFile {
                shape: Some(a.shape().to_vec()),
                values: standard_vec(a),
            });
        }
        let a = ArrayD::<f32>::read_npy(&bytes[..]).map_err(|e| {
            Error::input(
                path,
                format!("not a float64/float32 .npy array in C order ({e})"),
            )
        })?;
        let shape = a.shape().to_vec();
        let values = standard_vec(a.mapv(f64::from));
        Ok(ArrayFile {
            values,
            shape: Some(shape),
        })
    } else {
        let table = read_table(path)?;
        let mut values = Vec::new();
        for row in &table.rows {
            for (column, word) in row.words.iter().enumerate() {
                values.push(parse_number(word).ok_or_else(|| {
                    Error::input(
                        path,
                        format!(
                            "line {}, column {}: `{word}` is not a number",
                            row.line,
                            column + 1
                        ),
                    )
                })?);
            }
        }
        Ok(ArrayFile {
            values,
            shape: None,
        })
    }
}

fn standard_vec(a: ArrayD<f64>) -> Vec<f64> {
    if a.is_standard_layout() {
        a.into_raw_vec_and_offset().0
    } else {
        a.iter().copied().collect()
    }
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

fn read_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "file not found (paths in a config are relative to the config file)".into()
        }
        _ => format!("cannot read the file: {e}"),
    }
}

/// Parses a number as written in our text files; `nan`, `inf` and `-inf` in any case.
pub fn parse_number(word: &str) -> Option<f64> {
    word.parse::<f64>().ok()
}

/// A text table: non-empty, non-comment lines split on whitespace.
pub struct Table {
    pub rows: Vec<TableRow>,
}

pub struct TableRow {
    /// 1-based line number in the file, for messages.
    pub line: usize,
    pub words: Vec<String>,
}

pub fn read_table(path: &Path) -> Result<Table> {
    let text = fs::read_to_string(path).map_err(|e| Error::input(path, read_error(&e)))?;
    let rows = text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let content = line.split('#').next().unwrap_or("");
            let words: Vec<String> = content.split_whitespace().map(str::to_owned).collect();
            (!words.is_empty()).then_some(TableRow { line: i + 1, words })
        })
        .collect();
    Ok(Table { rows })
}

/// Writes values as text, one per line, in shortest round-trip decimal form (`nan` for NaN).
pub fn format_values_text(values: ArrayView1<f64>) -> String {
    let mut text = String::with_capacity(values.len() * 20);
    for v in values {
        if v.is_nan() {
            text.push_str("nan");
        } else {
            text.push_str(&format!("{v:?}"));
        }
        text.push('\n');
    }
    text
}

/// Writes `values` to `path` atomically: `.npy` (f64, flat) when the extension says so, text
/// otherwise.
pub fn write_values(path: &Path, values: ArrayView1<f64>) -> Result<()> {
    if is_npy(path) {
        let mut bytes = Vec::new();
        values
            .to_owned()
            .write_npy(&mut bytes)
            .map_err(|e| Error::output(path, e))?;
        super::atomic::write_bytes_atomically(path, &bytes)
    } else {
        super::atomic::write_bytes_atomically(path, format_values_text(values).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn npy_and_text_round_trip_in_c_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f64 + 0.1);
        let npy = dir.path().join("a.npy");
        let mut bytes = Vec::new();
        a.write_npy(&mut bytes).unwrap();
        fs::write(&npy, bytes).unwrap();
        let read = read_array(&npy).unwrap();
        assert_eq!(read.shape, Some(vec![2, 3]));
        assert_eq!(read.values, vec![0.1, 1.1, 2.1, 10.1, 11.1, 12.1]);

        let txt = dir.path().join("a.txt");
        write_values(&txt, array![0.1, f64::NAN, 1e-300].view()).unwrap();
        assert_eq!(fs::read_to_string(&txt).unwrap(), "0.1\nnan\n1e-300\n");
        let back = read_array(&txt).unwrap();
        assert_eq!(back.values[0], 0.1);
        assert!(back.values[1].is_nan());
        assert_eq!(back.values[2], 1e-300);
    }

    #[test]
    fn text_reports_line_and_column_of_a_bad_number() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("bad.txt");
        fs::write(&txt, "# header\n1 2\n3 x\n").unwrap();
        let err = read_array(&txt).err().unwrap().to_string();
        assert!(err.contains("line 3, column 2"), "{err}");
    }
}
