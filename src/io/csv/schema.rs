//! [`CsvSchema`]: options resolved against a file's header and a sample of its rows — which columns
//! make which component, with what dtype, shape and default.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use csv::ByteRecord;

use super::parse::{check_cell, infer, widest};
use super::records::{check_width, csv_reader, next_record, At};
use super::CsvOptions;
use crate::element::{ElementSpec, Structure, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::DType;

/// One component of the elements: a column, or a group of columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Component {
    pub name: String,
    pub dtype: DType,
    /// The per-row shape (`[]` for a lone column).
    pub shape: Vec<usize>,
    /// The file's columns whose values make it, in value order.
    pub columns: Vec<usize>,
    /// For each of those columns, the cell text a missing value takes (`None`: required).
    pub defaults: Vec<Option<Vec<u8>>>,
}

/// [`CsvOptions`] resolved against a file: its columns, the dtype of each component (given, or
/// inferred from the first rows), groups, defaults and the element spec. Made once, from the first
/// file, by [`CsvSchema::infer`]; every file read with it must have the same header.
#[derive(Debug, Clone)]
pub struct CsvSchema {
    options: CsvOptions,
    columns: Vec<String>,
    components: Vec<Component>,
    structure: Arc<Structure>,
    /// The index of the label among the components, if any.
    label: Option<usize>,
    source: PathBuf,
}

fn invalid(message: String) -> Error {
    Error::invalid_argument(message).with_stage("from_csv")
}

impl CsvSchema {
    /// Reads `path`'s header (or takes the given column names) and, for columns without a given
    /// dtype, infers one from the first rows; checks every option against the columns.
    ///
    /// Errors: [`NotFound`](crate::ErrorKind::NotFound) for a missing file, or a named column,
    /// group member or label that is not in the file; [`Format`](crate::ErrorKind::Format) for an
    /// empty file when a header is expected, or a ragged row in the sample;
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for contradictory options (a group
    /// whose shape does not fit its columns, a column in two groups, a default that does not parse,
    /// no header and no column names).
    pub fn infer(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvSchema> {
        let path = path.as_ref();
        let mut reader = csv_reader(path, options)?;
        let mut record = ByteRecord::new();
        let mut has_first = next_record(&mut reader, &mut record, path)?;
        let columns: Vec<String> = match (&options.column_names, options.header) {
            (_, true) if !has_first => {
                return Err(
                    Error::format("empty CSV file: expected a header line of column names")
                        .with_file(path)
                        .with_byte_offset(0),
                )
            }
            (Some(names), true) => {
                if names.len() != record.len() {
                    return Err(Error::incompatible(format!(
                        "the header has {} fields, but {} column names were given",
                        record.len(),
                        names.len()
                    ))
                    .with_file(path));
                }
                names.clone()
            }
            (None, true) => record
                .iter()
                .map(|f| String::from_utf8_lossy(f).trim().to_string())
                .collect(),
            (Some(names), false) => names.clone(),
            (None, false) => return Err(invalid(
                "a CSV file without a header needs column names (CsvOptions::with_column_names)"
                    .into(),
            )),
        };
        if options.header {
            has_first = next_record(&mut reader, &mut record, path)?;
        }
        let mut schema = CsvSchema::plan(options, columns, path)?;
        // Infer the untyped columns from the first rows.
        let width = schema.columns.len();
        let mut seen: Vec<Option<DType>> = vec![None; width];
        let mut row = 0u64;
        while has_first && (row as usize) < options.rows_for_inference {
            check_width(&record, At::of(&record, row), width, path)?;
            for (i, cell) in record.iter().enumerate() {
                seen[i] = infer(cell, &options.na_value, seen[i]);
            }
            row += 1;
            has_first = next_record(&mut reader, &mut record, path)?;
        }
        schema.finish_types(&seen)?;
        Ok(schema)
    }

    /// Components from columns and options, dtypes not yet resolved where not given.
    fn plan(options: &CsvOptions, columns: Vec<String>, path: &Path) -> Result<CsvSchema> {
        let find = |name: &str, what: &str| {
            columns.iter().position(|c| c == name).ok_or_else(|| {
                Error::not_found(format!(
                    "{what} {name:?} is not a column of the CSV file; its columns are {columns:?}"
                ))
                .with_file(path)
                .with_stage("from_csv")
            })
        };
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(invalid(format!("column name {c:?} appears twice")));
            }
        }
        let mut owner: Vec<Option<usize>> = vec![None; columns.len()];
        let mut components: Vec<Component> = Vec::new();
        for (g, group) in options.groups.iter().enumerate() {
            if group.columns.is_empty() {
                return Err(invalid(format!("group {:?} has no columns", group.name)));
            }
            if columns.contains(&group.name) && !group.columns.contains(&group.name) {
                return Err(invalid(format!(
                    "group {:?} has the name of a column outside it",
                    group.name
                )));
            }
            let shape = group.shape.clone().unwrap_or(vec![group.columns.len()]);
            if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(group.columns.len())
            {
                return Err(invalid(format!(
                    "group {:?} has {} columns, which do not fill its shape {shape:?}",
                    group.name,
                    group.columns.len()
                )));
            }
            let mut idx = Vec::with_capacity(group.columns.len());
            for c in &group.columns {
                let i = find(c, &format!("column of group {:?}", group.name))?;
                if let Some(other) = owner[i] {
                    return Err(invalid(format!(
                        "column {c:?} is in group {:?} and group {:?}",
                        options.groups[other].name, group.name
                    )));
                }
                owner[i] = Some(g);
                idx.push(i);
            }
            components.push(Component {
                name: group.name.clone(),
                dtype: group.dtype.unwrap_or(DType::String),
                shape,
                columns: idx,
                defaults: Vec::new(),
            });
        }
        for (i, c) in columns.iter().enumerate() {
            if owner[i].is_none() {
                components.push(Component {
                    name: c.clone(),
                    dtype: DType::String,
                    shape: Vec::new(),
                    columns: vec![i],
                    defaults: Vec::new(),
                });
            }
        }
        let names: Vec<String> = components.iter().map(|c| c.name.clone()).collect();
        if let Some(sel) = &options.select_columns {
            for s in sel {
                if !names.contains(s) {
                    find(s, "selected column")?;
                    return Err(invalid(format!(
                        "selected column {s:?} is in a group: select the group by its name"
                    )));
                }
            }
            components.retain(|c| sel.contains(&c.name));
        }
        for (name, _) in &options.column_types {
            if !names.contains(name) {
                find(name, "typed column")?;
                return Err(invalid(format!(
                    "column {name:?} is in a group: give the group's dtype (CsvGroup::with_dtype or the group's name)"
                )));
            }
        }
        for (name, _) in &options.defaults {
            if !names.contains(name) {
                find(name, "column with a default")?;
            }
        }
        // Components in file order (by their first column).
        components.sort_by_key(|c| c.columns.iter().copied().min().unwrap_or(0));
        let label = match &options.label {
            None => None,
            Some(l) => Some(
                components
                    .iter()
                    .position(|c| c.name == *l)
                    .ok_or_else(|| {
                        Error::not_found(format!(
                    "label {l:?} is not a selected column or group; the components are {:?}",
                    components.iter().map(|c| &c.name).collect::<Vec<_>>()
                ))
                        .with_stage("from_csv")
                    })?,
            ),
        };
        let features = Structure::dict_of_tensors(
            components
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != label)
                .map(|(_, c)| c.name.clone()),
        );
        let structure = match label {
            Some(_) => Structure::Tuple(vec![features, Structure::Tensor]),
            None => features,
        };
        Ok(CsvSchema {
            options: options.clone(),
            columns,
            components,
            structure: Arc::new(structure),
            label,
            source: path.to_path_buf(),
        })
    }

    /// Resolves dtypes (given, else inferred from `seen`) and defaults.
    fn finish_types(&mut self, seen: &[Option<DType>]) -> Result<()> {
        let options = &self.options;
        let given = |name: &str| {
            options
                .column_types
                .iter()
                .find(|(c, _)| c == name)
                .map(|(_, d)| *d)
        };
        for comp in self.components.iter_mut() {
            let group_dtype = options
                .groups
                .iter()
                .find(|g| g.name == comp.name && comp.columns.len() == g.columns.len())
                .and_then(|g| g.dtype);
            let declared = given(&comp.name).or(group_dtype);
            let inferred = declared.is_none();
            comp.dtype = declared.unwrap_or_else(|| {
                comp.columns
                    .iter()
                    .filter_map(|&i| seen[i])
                    .reduce(widest)
                    .unwrap_or(DType::String)
            });
            let group_default = options
                .defaults
                .iter()
                .find(|(c, _)| *c == comp.name)
                .map(|(_, v)| v.clone());
            comp.defaults = comp
                .columns
                .iter()
                .map(|&i| {
                    let own = options
                        .defaults
                        .iter()
                        .find(|(c, _)| *c == self.columns[i])
                        .map(|(_, v)| v.clone());
                    match own.or_else(|| group_default.clone()) {
                        Some(v) => {
                            check_cell(comp.dtype, v.as_bytes()).map_err(|why| {
                                invalid(format!(
                                    "the default of column {:?} does not parse as {}: {why}",
                                    self.columns[i], comp.dtype
                                ))
                            })?;
                            Ok(Some(v.into_bytes()))
                        }
                        None if inferred => Ok(Some(match comp.dtype {
                            DType::String | DType::Bytes => Vec::new(),
                            _ => b"0".to_vec(),
                        })),
                        None => Ok(None),
                    }
                })
                .collect::<Result<_>>()?;
        }
        Ok(())
    }

    /// The options it was made with.
    pub fn options(&self) -> &CsvOptions {
        &self.options
    }

    /// The file's column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The file the schema was inferred from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Each component's name, dtype and per-row shape, in file order.
    pub fn component_specs(&self) -> Vec<(String, TensorSpec)> {
        self.components
            .iter()
            .map(|c| (c.name.clone(), TensorSpec::new(c.dtype, &c.shape)))
            .collect()
    }

    pub(crate) fn components(&self) -> &[Component] {
        &self.components
    }

    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    pub(crate) fn column_name(&self, i: usize) -> &str {
        &self.columns[i]
    }

    /// The order in which the element's leaves take the components (features, then the label).
    pub(crate) fn leaf_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.components.len())
            .filter(|&i| Some(i) != self.label)
            .collect();
        order.extend(self.label);
        order
    }

    pub(crate) fn structure(&self) -> &Arc<Structure> {
        &self.structure
    }

    /// The spec of one row: a dict of the components, or `(features, label)`.
    pub fn row_spec(&self) -> ElementSpec {
        let specs = self
            .leaf_order()
            .into_iter()
            .map(|i| {
                let c = &self.components[i];
                TensorSpec::new(c.dtype, &c.shape)
            })
            .collect();
        ElementSpec::from_parts(self.structure.clone(), specs)
    }

    /// Checks a file's header against the schema's columns.
    pub(crate) fn check_header(&self, header: &ByteRecord, path: &Path) -> Result<()> {
        let same = match &self.options.column_names {
            Some(_) => header.len() == self.columns.len(),
            None => {
                header.len() == self.columns.len()
                    && header
                        .iter()
                        .zip(&self.columns)
                        .all(|(h, c)| String::from_utf8_lossy(h).trim() == c.as_str())
            }
        };
        if same {
            return Ok(());
        }
        let found: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        Err(Error::incompatible(format!(
            "the CSV header {found:?} differs from the schema's columns {:?} (inferred from {})",
            self.columns,
            self.source.display()
        ))
        .with_file(path)
        .with_record(0))
    }
}
