//! The tape's record: one fixed-size node per term, in pre-order.

/// What a node of a [`FlatTerm`](super::FlatTerm) is: one kind per variant
/// of [`Term`](crate::Term), so that a flat term converts to exactly the
/// term [`from_slice`](crate::from_slice) gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// An integer that fits in `i64`.
    Int,
    /// An integer outside the `i64` range.
    BigInt,
    /// A float.
    Float,
    /// An atom.
    Atom,
    /// A tuple.
    Tuple,
    /// `[]`.
    Nil,
    /// A proper list of at least one element.
    List,
    /// A list of bytes, from a STRING on the wire.
    ByteList,
    /// `[E1, ..., En | Tail]` with a tail that is not a list.
    ImproperList,
    /// A map.
    Map,
    /// A binary.
    Binary,
    /// A bitstring that is not a whole number of bytes.
    BitBinary,
    /// A process identifier.
    Pid,
    /// A port identifier.
    Port,
    /// A reference.
    Reference,
    /// An external fun, `fun M:F/A`.
    Export,
    /// A local fun (decoded on access).
    Fun,
    /// An OTP 29 native record (decoded on access).
    Record,
    /// A LOCAL_EXT term.
    Local,
}

/// One node: 16 bytes.
///
/// | kind | `tag` | `small` | `len` | `payload` |
/// |---|---|---|---|---|
/// | Int, Float | | | | the value, the bits |
/// | BigInt | | 1 if negative | digit count | offset of the digits |
/// | Atom | | | atom index | |
/// | Tuple, List, Map | | | arity, elements, entries | index past the subtree |
/// | ImproperList | | | elements (tail not counted) | index past the subtree |
/// | ByteList, Binary | | | byte count | offset of the bytes |
/// | BitBinary | | used bits | byte count | offset of the bytes |
/// | Pid, Port | wire tag | | node atom index | offset after the node |
/// | Reference | wire tag | words | node atom index | offset after the node |
/// | Export | arity | | module atom index | function atom index |
/// | Fun, Record, Local | | | byte count | offset of the tag |
#[derive(Clone, Copy, Debug)]
pub(super) struct Node {
    pub(super) kind: Kind,
    pub(super) tag: u8,
    pub(super) small: u16,
    pub(super) len: u32,
    pub(super) payload: u64,
}

impl Node {
    #[inline]
    pub(super) fn new(kind: Kind, len: u32, payload: u64) -> Node {
        Node {
            kind,
            tag: 0,
            small: 0,
            len,
            payload,
        }
    }

    /// True for the kinds whose children follow them on the tape.
    #[inline]
    pub(super) fn is_container(&self) -> bool {
        matches!(
            self.kind,
            Kind::Tuple | Kind::List | Kind::ImproperList | Kind::Map
        )
    }
}

const _: () = assert!(std::mem::size_of::<Node>() == 16);
