//! Writing and reading netCDF-4-compatible HDF5: groups of named variables whose dimensions are
//! HDF5 dimension scales (so that xarray and ArviZ see named dimensions), with link and attribute
//! creation order tracked. This module knows the mechanics only; `names` and the driver decide
//! what goes where.

use std::ffi::CString;
use std::path::Path;

use hdf5::plist::file_create::{AttrCreationOrder, LinkCreationOrder};
use hdf5::types::VarLenUnicode;
use ndarray::{Array1, ArrayD};

use crate::core::error::{Error, Result};

/// Values of a variable or a dimension's coordinate.
#[derive(Debug, Clone)]
pub enum Values {
    F64(ArrayD<f64>),
    I64(ArrayD<i64>),
    I8(ArrayD<i8>),
    /// A scalar string (no dimensions).
    Text(String),
    /// A 1-D array of strings (netCDF-4 `string`): labels along a dimension.
    Strings(Vec<String>),
}

impl Values {
    fn shape(&self) -> Vec<usize> {
        match self {
            Values::F64(a) => a.shape().to_vec(),
            Values::I64(a) => a.shape().to_vec(),
            Values::I8(a) => a.shape().to_vec(),
            Values::Text(_) => Vec::new(),
            Values::Strings(v) => vec![v.len()],
        }
    }
}

/// A root or variable attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Text(String),
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub dims: Vec<String>,
    pub values: Values,
    pub attrs: Vec<(String, AttrValue)>,
}

impl Variable {
    pub fn new(name: &str, dims: &[&str], values: Values) -> Self {
        Variable {
            name: name.into(),
            dims: dims.iter().map(|d| d.to_string()).collect(),
            values,
            attrs: Vec::new(),
        }
    }

    pub fn with_attr(mut self, name: &str, value: AttrValue) -> Self {
        self.attrs.push((name.into(), value));
        self
    }
}

/// A group: coordinates for (some of) its dimensions, then variables. Dimensions without a
/// given coordinate get 0..n as int64.
#[derive(Debug, Clone, Default)]
pub struct GroupSpec {
    pub name: String,
    pub coords: Vec<(String, Values)>,
    pub variables: Vec<Variable>,
    pub attrs: Vec<(String, AttrValue)>,
}

impl GroupSpec {
    pub fn new(name: &str) -> Self {
        GroupSpec {
            name: name.into(),
            ..Default::default()
        }
    }
    pub fn coord(mut self, dim: &str, values: Values) -> Self {
        self.coords.push((dim.into(), values));
        self
    }
    pub fn var(mut self, variable: Variable) -> Self {
        self.variables.push(variable);
        self
    }
    pub fn attr(mut self, name: &str, value: AttrValue) -> Self {
        self.attrs.push((name.into(), value));
        self
    }
}

unsafe extern "C" {
    fn H5DSset_scale(dsid: hdf5_sys::h5i::hid_t, dimname: *const std::os::raw::c_char) -> i32;
    fn H5DSattach_scale(did: hdf5_sys::h5i::hid_t, dsid: hdf5_sys::h5i::hid_t, idx: u32) -> i32;
}

fn h5err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::output(path, format!("{what}: {e}"))
}

/// Writes a new file at `path` (overwriting) with root attributes and groups.
pub fn write_file(
    path: &Path,
    root_attrs: &[(String, AttrValue)],
    groups: &[GroupSpec],
) -> Result<()> {
    let file = hdf5::File::with_options()
        .with_fcpl(|p| {
            p.link_creation_order(LinkCreationOrder::Indexed)
                .attr_creation_order(AttrCreationOrder::Indexed)
        })
        .create(path)
        .map_err(|e| h5err(path, "cannot create the HDF5 file", e))?;
    for (name, value) in root_attrs {
        write_attr(&file, name, value).map_err(|e| h5err(path, name, e))?;
    }
    for group in groups {
        write_group(&file, group).map_err(|e| h5err(path, &format!("group {}", group.name), e))?;
    }
    file.close().map_err(|e| h5err(path, "closing the file", e))
}

/// Removes the groups `names` of an existing file (those it has).
pub fn remove_groups(path: &Path, names: &[&str]) -> Result<()> {
    let file = hdf5::File::open_rw(path).map_err(|e| h5err(path, "cannot open the HDF5 file for writing", e))?;
    for name in names {
        if file.group(name).is_ok() {
            file.unlink(name).map_err(|e| h5err(path, &format!("group {name}"), e))?;
        }
    }
    file.close().map_err(|e| h5err(path, "closing the file", e))
}

/// Replaces (or adds) one group of an existing file.
pub fn replace_group(path: &Path, spec: &GroupSpec) -> Result<()> {
    let file = hdf5::File::open_rw(path).map_err(|e| h5err(path, "cannot open the HDF5 file for writing", e))?;
    if file.group(&spec.name).is_ok() {
        file.unlink(&spec.name).map_err(|e| h5err(path, &format!("group {}", spec.name), e))?;
    }
    write_group(&file, spec).map_err(|e| h5err(path, &format!("group {}", spec.name), e))?;
    file.close().map_err(|e| h5err(path, "closing the file", e))
}

fn write_group(file: &hdf5::File, spec: &GroupSpec) -> hdf5::Result<()> {
    let group = file
        .create_group_builder()
        .with_gcpl(|p| {
            p.link_creation_order(LinkCreationOrder::Indexed)
                .attr_creation_order(AttrCreationOrder::Indexed)
        })
        .create(spec.name.as_str())?;
    for (name, value) in &spec.attrs {
        write_attr(&group, name, value)?;
    }
    // Collect every dimension with its length, in order of first use.
    let mut dims: Vec<(String, usize)> = Vec::new();
    for var in &spec.variables {
        let shape = var.values.shape();
        assert_eq!(
            shape.len(),
            var.dims.len(),
            "variable {} has {} dims for shape {:?}",
            var.name,
            var.dims.len(),
            shape
        );
        for (dim, &len) in var.dims.iter().zip(&shape) {
            match dims.iter().find(|(d, _)| d == dim) {
                Some(&(_, known)) => assert_eq!(
                    known, len,
                    "dimension {dim} has two lengths in group {}",
                    spec.name
                ),
                None => dims.push((dim.clone(), len)),
            }
        }
    }
    let mut scales = Vec::new();
    for (dim, len) in &dims {
        let values = match spec.coords.iter().find(|(d, _)| d == dim) {
            Some((_, v)) => {
                assert_eq!(v.shape(), vec![*len], "coordinate {dim} length");
                v.clone()
            }
            None => Values::I64(Array1::from_iter(0..*len as i64).into_dyn()),
        };
        let ds = write_values(&group, dim, &values)?;
        let cname = CString::new(dim.as_str()).expect("dimension names have no NUL");
        // SAFETY: `ds` is an open dataset id; the name is a valid C string that outlives the call.
        let status = unsafe { H5DSset_scale(ds.id(), cname.as_ptr()) };
        if status < 0 {
            return Err(hdf5::Error::from(format!("H5DSset_scale failed for {dim}")));
        }
        scales.push((dim.clone(), ds));
    }
    for var in &spec.variables {
        let ds = write_values(&group, &var.name, &var.values)?;
        for (name, value) in &var.attrs {
            write_attr(&ds, name, value)?;
        }
        for (idx, dim) in var.dims.iter().enumerate() {
            if dim == &var.name {
                continue; // a coordinate variable is its own scale
            }
            let (_, scale) = scales
                .iter()
                .find(|(d, _)| d == dim)
                .expect("scale created above");
            // SAFETY: both ids are open datasets of this file; `idx` < the variable's rank.
            let status = unsafe { H5DSattach_scale(ds.id(), scale.id(), idx as u32) };
            if status < 0 {
                return Err(hdf5::Error::from(format!(
                    "H5DSattach_scale failed for {}[{dim}]",
                    var.name
                )));
            }
        }
    }
    Ok(())
}

fn write_values(group: &hdf5::Group, name: &str, values: &Values) -> hdf5::Result<hdf5::Dataset> {
    if let Ok(existing) = group.dataset(name) {
        return Ok(existing); // a coordinate given both as a coordinate and as a variable
    }
    match values {
        Values::F64(a) => group.new_dataset_builder().with_data(a.view()).create(name),
        Values::I64(a) => group.new_dataset_builder().with_data(a.view()).create(name),
        Values::I8(a) => group.new_dataset_builder().with_data(a.view()).create(name),
        Values::Text(s) => {
            let ds = group
                .new_dataset::<VarLenUnicode>()
                .shape(())
                .create(name)?;
            ds.write_scalar(&to_varlen(s))?;
            Ok(ds)
        }
        Values::Strings(v) => {
            let ds = group
                .new_dataset::<VarLenUnicode>()
                .shape(v.len())
                .create(name)?;
            let values: ndarray::Array1<VarLenUnicode> = v.iter().map(|s| to_varlen(s)).collect();
            ds.write(values.view())?;
            Ok(ds)
        }
    }
}

fn to_varlen(s: &str) -> VarLenUnicode {
    // Interior NULs cannot be stored in an HDF5 string; they never occur in our texts.
    s.replace('\0', " ")
        .parse()
        .expect("strings without NUL convert")
}

fn write_attr(loc: &hdf5::Location, name: &str, value: &AttrValue) -> hdf5::Result<()> {
    match value {
        AttrValue::Text(s) => loc
            .new_attr::<VarLenUnicode>()
            .shape(())
            .create(name)?
            .write_scalar(&to_varlen(s)),
        AttrValue::Int(i) => loc
            .new_attr::<i64>()
            .shape(())
            .create(name)?
            .write_scalar(i),
        AttrValue::Float(x) => loc
            .new_attr::<f64>()
            .shape(())
            .create(name)?
            .write_scalar(x),
    }
}

/// Read access to a result file: root attributes, groups and variables by path.
pub struct H5Reader {
    file: hdf5::File,
    path: std::path::PathBuf,
}

impl H5Reader {
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::input(path, "file not found"));
        }
        let file = hdf5::File::open(path)
            .map_err(|e| Error::input(path, format!("not a readable HDF5 file ({e})")))?;
        Ok(H5Reader {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn has(&self, dataset_path: &str) -> bool {
        self.file.dataset(dataset_path).is_ok()
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.file.group(group).is_ok()
    }

    /// Names of the datasets directly inside `group`.
    pub fn dataset_names(&self, group: &str) -> Result<Vec<String>> {
        let g = self
            .file
            .group(group)
            .map_err(|e| h5err(&self.path, group, e))?;
        let mut names: Vec<String> = g
            .datasets()
            .map_err(|e| h5err(&self.path, group, e))?
            .iter()
            .map(|d| d.name().rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn group_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .file
            .groups()
            .map_err(|e| h5err(&self.path, "/", e))?
            .iter()
            .map(|g| g.name().trim_start_matches('/').to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn f64(&self, dataset_path: &str) -> Result<ArrayD<f64>> {
        self.file
            .dataset(dataset_path)
            .and_then(|d| d.read_dyn::<f64>())
            .map_err(|e| h5err(&self.path, dataset_path, e))
    }

    pub fn i64(&self, dataset_path: &str) -> Result<ArrayD<i64>> {
        self.file
            .dataset(dataset_path)
            .and_then(|d| d.read_dyn::<i64>())
            .map_err(|e| h5err(&self.path, dataset_path, e))
    }

    pub fn i8(&self, dataset_path: &str) -> Result<ArrayD<i8>> {
        self.file
            .dataset(dataset_path)
            .and_then(|d| d.read_dyn::<i8>())
            .map_err(|e| h5err(&self.path, dataset_path, e))
    }

    pub fn text(&self, dataset_path: &str) -> Result<String> {
        self.file
            .dataset(dataset_path)
            .and_then(|d| d.read_scalar::<VarLenUnicode>())
            .map(|s| s.as_str().to_string())
            .map_err(|e| h5err(&self.path, dataset_path, e))
    }

    /// A 1-D array of strings.
    pub fn strings(&self, dataset_path: &str) -> Result<Vec<String>> {
        self.file
            .dataset(dataset_path)
            .and_then(|d| d.read_1d::<VarLenUnicode>())
            .map(|a| a.iter().map(|s| s.as_str().to_string()).collect())
            .map_err(|e| h5err(&self.path, dataset_path, e))
    }

    /// A root attribute, whatever its type, as an `AttrValue`.
    pub fn root_attr(&self, name: &str) -> Result<AttrValue> {
        let attr = self
            .file
            .attr(name)
            .map_err(|e| h5err(&self.path, name, e))?;
        self.attr_value(&attr, name)
    }

    /// The attributes of `group` (name and value), in creation order.
    pub fn group_attrs(&self, group: &str) -> Result<Vec<(String, AttrValue)>> {
        let g = self
            .file
            .group(group)
            .map_err(|e| h5err(&self.path, group, e))?;
        let names = g.attr_names().map_err(|e| h5err(&self.path, group, e))?;
        names
            .iter()
            .map(|name| {
                let what = format!("{group}/@{name}");
                let attr = g.attr(name).map_err(|e| h5err(&self.path, &what, e))?;
                Ok((name.clone(), self.attr_value(&attr, &what)?))
            })
            .collect()
    }

    fn attr_value(&self, attr: &hdf5::Attribute, what: &str) -> Result<AttrValue> {
        if let Ok(s) = attr.read_scalar::<VarLenUnicode>() {
            return Ok(AttrValue::Text(s.as_str().to_string()));
        }
        if let Ok(dtype) = attr.dtype()
            && dtype.is::<i64>()
        {
            return attr
                .read_scalar::<i64>()
                .map(AttrValue::Int)
                .map_err(|e| h5err(&self.path, what, e));
        }
        attr.read_scalar::<f64>()
            .map(AttrValue::Float)
            .map_err(|e| h5err(&self.path, what, e))
    }

    pub fn root_text(&self, name: &str) -> Result<String> {
        match self.root_attr(name)? {
            AttrValue::Text(s) => Ok(s),
            other => Ok(format!("{other:?}")),
        }
    }
}
