//! [`Record`]: an OTP 29 native record, its fields kept in definition order.

use crate::error::DuplicateField;
use crate::term::{Atom, Record, Term};
use std::collections::HashSet;

/// Up to this many fields, a repeated name is found by comparing every pair;
/// above it, through a hash set.
const LINEAR_LIMIT: usize = 16;

impl Record {
    /// The record `#Module:Name{...}` with these fields, in definition order,
    /// not exported. Fails on the first field name that appears twice (the
    /// BEAM refuses to decode such a record).
    pub fn new<F, V>(
        module: impl Into<Atom>,
        name: impl Into<Atom>,
        fields: impl IntoIterator<Item = (F, V)>,
    ) -> Result<Record, DuplicateField>
    where
        F: Into<Atom>,
        V: Into<Term>,
    {
        let (fields, values): (Vec<Atom>, Vec<Term>) = fields
            .into_iter()
            .map(|(field, value)| (field.into(), value.into()))
            .unzip();
        Record::from_columns(module.into(), name.into(), false, fields, values)
    }

    /// A record from field names and values of the same length (the caller
    /// makes sure). Fails on a repeated field name.
    pub(crate) fn from_columns(
        module: Atom,
        name: Atom,
        exported: bool,
        mut fields: Vec<Atom>,
        values: Vec<Term>,
    ) -> Result<Record, DuplicateField> {
        debug_assert_eq!(fields.len(), values.len());
        if let Some(i) = first_duplicate(&fields) {
            return Err(DuplicateField {
                module,
                name,
                field: fields.swap_remove(i),
            });
        }
        Ok(Record {
            module,
            name,
            exported,
            fields,
            values,
        })
    }

    /// The same record, marked as exported by its module (`-export_record`)
    /// or not. OTP 29 tells the two apart: a record received with the flag
    /// other than the one of its definition is not equal to a local one.
    pub fn with_exported(mut self, exported: bool) -> Record {
        self.exported = exported;
        self
    }

    /// The module that defines the record.
    pub fn module(&self) -> &Atom {
        &self.module
    }

    /// The record's name.
    pub fn name(&self) -> &Atom {
        &self.name
    }

    /// Whether its module exports the record (`-export_record`): the flag
    /// byte of RECORD_EXT.
    pub fn is_exported(&self) -> bool {
        self.exported
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True for a record without fields (`#m:empty{}`).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The field names, in definition order.
    pub fn field_names(&self) -> &[Atom] {
        &self.fields
    }

    /// The values, in field order.
    pub fn values(&self) -> &[Term] {
        &self.values
    }

    /// The values, in field order, to change in place (the fields stay).
    pub fn values_mut(&mut self) -> &mut [Term] {
        &mut self.values
    }

    /// The fields with their values, in definition order.
    pub fn fields(&self) -> impl DoubleEndedIterator<Item = (&Atom, &Term)> + ExactSizeIterator {
        self.fields.iter().zip(&self.values)
    }

    /// The value of field `field`, if the record has it.
    pub fn get(&self, field: &str) -> Option<&Term> {
        let i = self.fields.iter().position(|f| f.as_str() == field)?;
        self.values.get(i)
    }

    /// The value of field `field` to change in place, if the record has it.
    pub fn get_mut(&mut self, field: &str) -> Option<&mut Term> {
        let i = self.fields.iter().position(|f| f.as_str() == field)?;
        self.values.get_mut(i)
    }

    /// The parts: module, name, exported flag, field names, values.
    pub fn into_parts(self) -> (Atom, Atom, bool, Vec<Atom>, Vec<Term>) {
        (
            self.module,
            self.name,
            self.exported,
            self.fields,
            self.values,
        )
    }
}

/// The index of the second occurrence of the first repeated name, if any.
pub(crate) fn first_duplicate(fields: &[Atom]) -> Option<usize> {
    if fields.len() <= LINEAR_LIMIT {
        (1..fields.len()).find(|&i| fields[..i].contains(&fields[i]))
    } else {
        let mut seen = HashSet::with_capacity(fields.len());
        fields.iter().position(|f| !seen.insert(f.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_field_names_are_refused_in_small_and_large_records() {
        for n in [2usize, 16, 17, 500] {
            let mut fields: Vec<Atom> = (0..n).map(|i| Atom::from(format!("f{i}"))).collect();
            let values = vec![Term::Nil; n + 1];
            let ok = Record::new("m", "r", fields.iter().cloned().zip(values.clone()));
            assert_eq!(ok.map(|r| r.len()), Ok(n));
            fields.push(Atom::from(format!("f{}", n / 2)));
            let err = Record::new("m", "r", fields.into_iter().zip(values)).unwrap_err();
            assert_eq!(err.field.as_str(), format!("f{}", n / 2));
        }
    }

    #[test]
    fn fields_are_found_by_name_in_definition_order() {
        let mut r = Record::new("m", "r", [("z", 1), ("a", 2)]).unwrap();
        assert_eq!(r.get("a"), Some(&Term::Int(2)));
        assert_eq!(r.get("b"), None);
        *r.get_mut("z").unwrap() = Term::atom("new");
        let names: Vec<&str> = r.fields().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["z", "a"]);
        assert_eq!(r.values()[0], Term::atom("new"));
        assert!(!r.is_exported() && r.clone().with_exported(true).is_exported());
    }
}
