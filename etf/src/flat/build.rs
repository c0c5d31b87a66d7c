//! Tape to [`Term`]: the leaves one by one, the containers through an
//! explicit stack, so that any depth converts without recursion.

use super::node::{Kind, Node};
use super::parse::end_of;
use crate::decode::Decoder;
use crate::term::{Atom, BitBinary, Export, Map, Pid, Port, Reference, Term};
use bytes::Bytes;
use num_bigint::{BigInt, Sign};

/// A tape with what its nodes point into: the atoms and the input
/// (`shared` when binaries may share it, else they are copied).
#[derive(Clone, Copy)]
pub(super) struct Parts<'a> {
    pub(super) nodes: &'a [Node],
    pub(super) atoms: &'a [Atom],
    pub(super) input: &'a [u8],
    pub(super) shared: Option<&'a Bytes>,
}

/// A container being rebuilt.
struct Open {
    kind: Kind,
    items: Vec<Term>,
    left: usize,
}

impl<'a> Parts<'a> {
    /// The input bytes `start..start + len`, empty if out of range (never,
    /// for a tape the decoder made).
    #[inline]
    pub(super) fn bytes(&self, start: u64, len: usize) -> &'a [u8] {
        let start = start as usize;
        self.input
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }

    /// As [`Parts::bytes`], shared with the input when it can be.
    pub(super) fn shared_bytes(&self, start: u64, len: usize) -> Bytes {
        let s = start as usize;
        match self.shared {
            Some(b) if s.saturating_add(len) <= b.len() => b.slice(s..s + len),
            _ => Bytes::copy_from_slice(self.bytes(start, len)),
        }
    }

    fn be<const N: usize>(&self, at: u64) -> [u8; N] {
        let mut a = [0u8; N];
        let s = self.bytes(at, N);
        if s.len() == N {
            a.copy_from_slice(s);
        }
        a
    }

    pub(super) fn atom(&self, index: u32) -> Atom {
        self.atoms
            .get(index as usize)
            .cloned()
            .unwrap_or_else(|| Atom::new(""))
    }

    pub(super) fn bigint(&self, n: &Node) -> BigInt {
        let sign = if n.small == 0 {
            Sign::Plus
        } else {
            Sign::Minus
        };
        BigInt::from_bytes_le(sign, self.bytes(n.payload, n.len as usize))
    }

    pub(super) fn bit_binary(&self, n: &Node) -> BitBinary {
        let bits = n.small as u8;
        let raw = self.bytes(n.payload, n.len as usize);
        let mask = !(0xffu8 >> bits);
        let bytes = match raw.last() {
            Some(&last) if last & mask != last => {
                let mut v = raw.to_vec();
                if let Some(l) = v.last_mut() {
                    *l &= mask;
                }
                Bytes::from(v)
            }
            _ => self.shared_bytes(n.payload, n.len as usize),
        };
        BitBinary { bytes, bits }
    }

    pub(super) fn pid(&self, n: &Node) -> Pid {
        let at = n.payload;
        Pid {
            node: self.atom(n.len),
            id: u32::from_be_bytes(self.be(at)),
            serial: u32::from_be_bytes(self.be(at + 4)),
            creation: if n.tag == crate::decode::tag::PID {
                self.be::<1>(at + 8)[0].into()
            } else {
                u32::from_be_bytes(self.be(at + 8))
            },
        }
    }

    pub(super) fn port(&self, n: &Node) -> Port {
        use crate::decode::tag;
        let at = n.payload;
        let (id, creation) = match n.tag {
            tag::PORT => (
                u32::from_be_bytes(self.be(at)).into(),
                self.be::<1>(at + 4)[0].into(),
            ),
            tag::NEW_PORT => (
                u32::from_be_bytes(self.be(at)).into(),
                u32::from_be_bytes(self.be(at + 4)),
            ),
            _ => (
                u64::from_be_bytes(self.be(at)),
                u32::from_be_bytes(self.be(at + 8)),
            ),
        };
        Port {
            node: self.atom(n.len),
            id,
            creation,
        }
    }

    pub(super) fn reference(&self, n: &Node) -> Reference {
        use crate::decode::tag;
        let at = n.payload;
        let (creation, words_at) = match n.tag {
            // REFERENCE: the word, then the creation byte.
            tag::REFERENCE => (self.be::<1>(at + 4)[0].into(), at),
            tag::NEW_REFERENCE => (self.be::<1>(at)[0].into(), at + 1),
            _ => (u32::from_be_bytes(self.be(at)), at + 4),
        };
        let ids = self
            .bytes(words_at, 4 * usize::from(n.small))
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        Reference {
            node: self.atom(n.len),
            creation,
            ids,
        }
    }

    pub(super) fn export(&self, n: &Node) -> Export {
        Export {
            module: self.atom(n.len),
            function: self.atom(n.payload as u32),
            arity: n.tag,
        }
    }

    /// A term kept as its bytes (local fun, native record, LOCAL_EXT),
    /// decoded now. It decoded once already, so it decodes again; `[]`
    /// stands in should it ever not.
    pub(super) fn raw(&self, n: &Node) -> Term {
        let bytes = self.shared_bytes(n.payload, n.len as usize);
        Decoder::from_bytes(bytes).read_body().unwrap_or(Term::Nil)
    }

    /// The term of a node that has no children on the tape.
    pub(super) fn leaf(&self, n: &Node) -> Term {
        match n.kind {
            Kind::Int => Term::Int(n.payload as i64),
            Kind::BigInt => Term::BigInt(self.bigint(n)),
            Kind::Float => Term::Float(f64::from_bits(n.payload)),
            Kind::Atom => Term::Atom(self.atom(n.len)),
            Kind::Nil | Kind::List | Kind::ImproperList => Term::Nil,
            Kind::Tuple => Term::Tuple(Vec::new()),
            Kind::Map => Term::Map(Map::new()),
            Kind::ByteList => Term::ByteList(self.bytes(n.payload, n.len as usize).to_vec()),
            Kind::Binary => Term::Binary(self.shared_bytes(n.payload, n.len as usize)),
            Kind::BitBinary => Term::BitBinary(self.bit_binary(n)),
            Kind::Pid => Term::Pid(self.pid(n)),
            Kind::Port => Term::Port(self.port(n)),
            Kind::Reference => Term::Reference(self.reference(n)),
            Kind::Export => Term::Export(self.export(n)),
            Kind::Fun | Kind::Record | Kind::Local => self.raw(n),
        }
    }

    /// The number of children of node `n` on the tape.
    fn children(n: &Node) -> usize {
        match n.kind {
            Kind::Tuple | Kind::List => n.len as usize,
            Kind::ImproperList => n.len as usize + 1,
            Kind::Map => 2 * n.len as usize,
            _ => 0,
        }
    }

    /// The term of the subtree at `root`.
    pub(super) fn build(&self, root: usize) -> Term {
        let end = end_of(self.nodes, root);
        let mut stack: Vec<Open> = Vec::new();
        let mut i = root;
        while i < end {
            let Some(n) = self.nodes.get(i) else { break };
            i += 1;
            let children = Self::children(n);
            if children > 0 {
                stack.push(Open {
                    kind: n.kind,
                    items: Vec::with_capacity(children),
                    left: children,
                });
                continue;
            }
            let mut value = self.leaf(n);
            loop {
                let Some(top) = stack.last_mut() else {
                    return value;
                };
                top.items.push(value);
                top.left -= 1;
                if top.left > 0 {
                    break;
                }
                let Some(done) = stack.pop() else { break };
                value = finish(done);
            }
        }
        Term::Nil
    }
}

fn finish(open: Open) -> Term {
    let mut items = open.items;
    match open.kind {
        Kind::Tuple => Term::Tuple(items),
        Kind::ImproperList => {
            let tail = items.pop().unwrap_or(Term::Nil);
            Term::ImproperList(items, Box::new(tail))
        }
        Kind::Map => {
            let mut entries = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                entries.push((k, v));
            }
            Term::Map(Map::from_unique(entries))
        }
        _ => Term::list(items),
    }
}
