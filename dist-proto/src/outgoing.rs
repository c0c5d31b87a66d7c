//! The send side's scheduler: large messages go out in fragments
//! (`131,69` DIST_FRAG_HEADER, then `131,70` DIST_FRAG_CONT) interleaved
//! with everything else, so that one huge message neither stalls ticks nor
//! holds up small messages of other processes.
//!
//! Messages are queued per sender ("streams"): a sender with a message in
//! fragments sends its later messages, small or not, behind it, which keeps
//! Erlang's order between a pair of processes. Senders without a stream
//! bypass the streams entirely. Each [`SendQueue::poll`] hands out the small
//! frames waiting, then one fragment of one stream, rotating between
//! streams; the caller polls again only when its socket buffer runs low.
//!
//! A fragmented message carries a sequence id of its own (a counter of the
//! connection) and fragment ids counting down to 1; the first fragment holds
//! the atom cache header.
//!
//! With the atom cache on, the queue writes each message's atom cache
//! header as it cuts the message's first frame (see `atom_refs.rs`): the
//! peer then applies the headers in the order our copy of its cache took
//! them.

use bytes::{Bytes, BytesMut};
use etf::{Atom, Pid};
use std::collections::VecDeque;

use crate::atom_refs::SendAtomCache;

/// OTP's fragment size: the terms' bytes in one fragment.
pub const DEFAULT_FRAGMENT_SIZE: usize = 64 * 1024;
/// The largest fragment size: every frame the queue cuts then fits a `u32`
/// length prefix, so handing out fragments cannot fail.
const MAX_FRAGMENT_SIZE: usize = 1 << 30;

/// The longest atom cache header: the count, the flags, and 255 references
/// of an index, a length and up to 255 bytes of text.
const MAX_ATOM_HEADER: usize = 1 + 128 + 255 * (2 + 255);

const VERSION: u8 = 131;
const DIST_HEADER: u8 = 68;
const DIST_FRAG_HEADER: u8 = 69;
const DIST_FRAG_CONT: u8 = 70;
/// An atom cache header with no references.
const NO_ATOM_REFS: u8 = 0;

/// One encoded message waiting in a stream: the control and payload terms'
/// bytes, without version bytes or header, in chunks (large binaries are
/// shared with the terms they came from, not copied).
#[derive(Debug)]
struct Outgoing {
    /// What is left to send, in order.
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    remaining: usize,
    /// The whole message's length.
    len: usize,
    /// The sequence id, if it goes out in several fragments.
    seq: Option<u64>,
    /// The id of the next fragment (counts down to 1).
    next_id: u64,
    /// The atoms the terms' cache references stand for, until the first
    /// frame's header is written; `None` for terms without references.
    atoms: Option<Vec<Atom>>,
}

impl Outgoing {
    /// Takes up to `max` bytes off the front, as slices of the chunks.
    fn take(&mut self, max: usize, parts: &mut Vec<Bytes>) {
        let mut want = max.min(self.remaining);
        self.remaining -= want;
        while want > 0 {
            let Some(front) = self.chunks.front_mut() else {
                return;
            };
            if front.len() > want {
                parts.push(front.split_to(want));
                return;
            }
            want -= front.len();
            if let Some(whole) = self.chunks.pop_front() {
                parts.push(whole);
            }
        }
    }

    fn started(&self) -> bool {
        self.remaining < self.len
    }
}

/// The messages of one sender that wait behind a fragmented one.
#[derive(Debug)]
struct Stream {
    sender: Option<Pid>,
    messages: VecDeque<Outgoing>,
}

/// Frames waiting to be sent on one connection.
#[derive(Debug)]
pub(crate) struct SendQueue {
    fragment_size: usize,
    /// Complete frames (small messages, ticks) ready to go. Handed out with
    /// `split`, so its allocation is used again once the socket has them.
    ready: BytesMut,
    streams: VecDeque<Stream>,
    /// Bytes in streams, the messages at their heads excluded.
    behind: usize,
    next_seq: u64,
    /// The send side of the atom cache, when the peer takes references.
    atom_refs: Option<SendAtomCache>,
    /// Where an atom cache header is written, kept for its capacity.
    header: Vec<u8>,
}

impl SendQueue {
    /// An empty queue cutting messages into `fragment_size` pieces (1 byte
    /// to 1 GiB).
    pub(crate) fn new(fragment_size: usize) -> SendQueue {
        SendQueue {
            fragment_size: fragment_size.clamp(1, MAX_FRAGMENT_SIZE),
            ready: BytesMut::new(),
            streams: VecDeque::new(),
            behind: 0,
            next_seq: 1,
            atom_refs: None,
            header: Vec::new(),
        }
    }

    /// The same queue with the atom cache on: messages encoded with
    /// [`SendQueue::atom_refs`] carry cache references.
    pub(crate) fn with_atom_cache(mut self) -> SendQueue {
        self.atom_refs = Some(SendAtomCache::new());
        self
    }

    /// The atom cache to encode a message's atoms against, when it is on.
    /// The message must then be queued with [`SendQueue::push_small_with_refs`]
    /// or [`SendQueue::push_message_with_refs`] before anything else.
    pub(crate) fn atom_refs(&mut self) -> Option<&mut SendAtomCache> {
        self.atom_refs.as_mut()
    }

    /// Appends a complete frame (length prefix included) to go out next.
    pub(crate) fn push_frame(&mut self, frame: &[u8]) {
        self.ready.extend_from_slice(frame);
    }

    /// Queues a message whose terms fit one frame as that frame, in the
    /// `131,68` header form, unless `sender` has a stream (its message must
    /// wait behind the one in fragments) or the terms exceed the fragment
    /// size: then it queues nothing and returns false.
    pub(crate) fn push_small(&mut self, sender: Option<&Pid>, terms: &[u8]) -> bool {
        if !self.takes_small(sender, terms.len()) {
            return false;
        }
        self.push_header(&[NO_ATOM_REFS], terms.len());
        self.ready.extend_from_slice(terms);
        true
    }

    /// Whether a message of `len` bytes of terms from `sender` would go out
    /// as one frame of its own, through [`SendQueue::push_small`].
    pub(crate) fn takes_small(&self, sender: Option<&Pid>, len: usize) -> bool {
        len <= self.fragment_size && self.stream_of(sender).is_none()
    }

    /// [`SendQueue::push_small`] for terms just encoded against
    /// [`SendQueue::atom_refs`]: the frame's header carries their references.
    pub(crate) fn push_small_with_refs(&mut self, sender: Option<&Pid>, terms: &[u8]) -> bool {
        if !self.takes_small(sender, terms.len()) {
            return false;
        }
        let Some(cache) = self.atom_refs.as_mut() else {
            return false;
        };
        let mut header = std::mem::take(&mut self.header);
        header.clear();
        cache.write_header(&mut header);
        self.push_header(&header, terms.len());
        self.ready.extend_from_slice(terms);
        self.header = header;
        true
    }

    /// Starts a `131,68` frame in `ready`: its atom cache header, then room
    /// for `len` bytes of terms.
    fn push_header(&mut self, atom_header: &[u8], len: usize) {
        let len = len + 2 + atom_header.len();
        self.ready.reserve(len + 4);
        self.ready.extend_from_slice(&frame_prefix(len));
        self.ready.extend_from_slice(&[VERSION, DIST_HEADER]);
        self.ready.extend_from_slice(atom_header);
    }

    fn stream_of(&self, sender: Option<&Pid>) -> Option<usize> {
        self.streams
            .iter()
            .position(|s| s.sender.as_ref() == sender)
    }

    /// Queues a message in the `131,68` header form, in fragments if its
    /// terms exceed the fragment size or `sender` already has a stream.
    /// `terms` are the message's bytes in order, in any number of chunks.
    pub(crate) fn push_message(&mut self, sender: Option<&Pid>, terms: Vec<Bytes>) {
        self.queue_message(sender, terms, None);
    }

    /// [`SendQueue::push_message`] for terms just encoded against
    /// [`SendQueue::atom_refs`]: the header of the message's first frame
    /// carries their references. Returns false, queueing nothing, if the
    /// cache is off or cannot name the references' atoms.
    pub(crate) fn push_message_with_refs(
        &mut self,
        sender: Option<&Pid>,
        terms: Vec<Bytes>,
    ) -> bool {
        let Some(atoms) = self.atom_refs.as_mut().and_then(SendAtomCache::take_atoms) else {
            return false;
        };
        self.queue_message(sender, terms, Some(atoms));
        true
    }

    fn queue_message(&mut self, sender: Option<&Pid>, terms: Vec<Bytes>, atoms: Option<Vec<Atom>>) {
        let len: usize = terms.iter().map(Bytes::len).sum();
        let stream = self.stream_of(sender);
        let pieces = len.div_ceil(self.fragment_size).max(1);
        let seq = (pieces > 1).then(|| {
            let seq = self.next_seq;
            self.next_seq += 1;
            seq
        });
        let mut message = Outgoing {
            chunks: terms.into(),
            remaining: len,
            len,
            seq,
            next_id: u64::try_from(pieces).unwrap_or(u64::MAX),
            atoms,
        };
        match stream.and_then(|i| self.streams.get_mut(i)) {
            Some(stream) => {
                self.behind += message.len;
                stream.messages.push_back(message);
            }
            None if seq.is_none() => {
                // One frame, and nothing of its sender's ahead: it goes now.
                let (head, parts) = self.write_piece(&mut message);
                self.ready.extend_from_slice(&head);
                for part in &parts {
                    self.ready.extend_from_slice(part);
                }
            }
            None => self.streams.push_back(Stream {
                sender: sender.cloned(),
                messages: VecDeque::from([message]),
            }),
        }
    }

    /// Moves the ready frames and at most one fragment into `out`; returns
    /// how many bytes.
    pub(crate) fn poll(&mut self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        out.extend_from_slice(&self.ready);
        self.ready.clear();
        if let Some((head, parts)) = self.next_piece() {
            out.extend_from_slice(&head);
            for part in &parts {
                out.extend_from_slice(part);
            }
        }
        out.len() - start
    }

    /// The same as [`SendQueue::poll`], but hands the bytes out as chunks
    /// without copying the messages' terms: a fragment is its header and
    /// slices of its message. Returns how many bytes.
    pub(crate) fn poll_chunks(&mut self, out: &mut VecDeque<Bytes>) -> usize {
        let mut len = self.ready.len();
        if !self.ready.is_empty() {
            out.push_back(self.ready.split().freeze());
        }
        if let Some((head, parts)) = self.next_piece() {
            len += head.len();
            out.push_back(Bytes::from(head));
            for part in parts {
                len += part.len();
                out.push_back(part);
            }
        }
        len
    }

    /// The header and terms of the next frame of the next stream, if any.
    fn next_piece(&mut self) -> Option<(Vec<u8>, Vec<Bytes>)> {
        let mut piece = None;
        if let Some(mut stream) = self.streams.pop_front() {
            if let Some(mut message) = stream.messages.pop_front() {
                piece = Some(self.write_piece(&mut message));
                if message.remaining > 0 {
                    stream.messages.push_front(message);
                } else if let Some(next) = stream.messages.front() {
                    self.behind -= next.len;
                }
            }
            if !stream.messages.is_empty() {
                self.streams.push_back(stream);
            }
        }
        piece
    }

    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.streams.is_empty()
    }

    /// Bytes waiting that are not the message a stream is sending now: what
    /// a caller bounds before queueing more.
    pub(crate) fn backlog(&self) -> usize {
        self.ready.len() + self.behind
    }

    /// Messages being sent in fragments or waiting behind one.
    pub(crate) fn streamed_messages(&self) -> usize {
        self.streams.iter().map(|s| s.messages.len()).sum()
    }

    /// The next frame of `message`, as its header (length prefix included)
    /// and its terms: all of it if it has no sequence (then it is no longer
    /// than a fragment), else its next fragment. The first frame carries
    /// the atom cache header, written now.
    fn write_piece(&mut self, message: &mut Outgoing) -> (Vec<u8>, Vec<Bytes>) {
        let first = !message.started();
        let mut atom_header = Vec::new();
        if first {
            match (message.atoms.take(), self.atom_refs.as_mut()) {
                (Some(atoms), Some(cache)) => cache.write_header_for(&atoms, &mut atom_header),
                _ => atom_header.push(NO_ATOM_REFS),
            }
        }
        let mut parts = Vec::new();
        let Some(seq) = message.seq else {
            message.take(message.len, &mut parts);
            let mut out = Vec::with_capacity(6 + atom_header.len());
            out.extend_from_slice(&frame_prefix(message.len + 2 + atom_header.len()));
            out.extend_from_slice(&[VERSION, DIST_HEADER]);
            out.extend_from_slice(&atom_header);
            return (out, parts);
        };
        message.take(self.fragment_size, &mut parts);
        let part_len: usize = parts.iter().map(Bytes::len).sum();
        let head = 2 + 16 + atom_header.len();
        let mut out = Vec::with_capacity(4 + head);
        out.extend_from_slice(&frame_prefix(head + part_len));
        let kind = if first {
            DIST_FRAG_HEADER
        } else {
            DIST_FRAG_CONT
        };
        out.extend_from_slice(&[VERSION, kind]);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&message.next_id.to_be_bytes());
        out.extend_from_slice(&atom_header);
        message.next_id = message.next_id.saturating_sub(1);
        (out, parts)
    }
}

/// The `u32` length prefix of a frame the queue cut: at most a fragment and
/// its headers, so it always fits.
fn frame_prefix(len: usize) -> [u8; 4] {
    debug_assert!(len <= MAX_FRAGMENT_SIZE + 18 + MAX_ATOM_HEADER);
    u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::{Frame, FrameDecoder, LengthPrefix};
    use etf::Atom;

    fn pid(id: u32) -> Pid {
        Pid {
            node: Atom::new("a@h"),
            id,
            serial: 0,
            creation: 1,
        }
    }

    /// `bytes` in chunks of 3, to show a message's chunking does not matter.
    fn chunks(bytes: Vec<u8>) -> Vec<Bytes> {
        bytes.chunks(3).map(Bytes::copy_from_slice).collect()
    }

    fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut decoder = FrameDecoder::new(LengthPrefix::U32, usize::MAX);
        decoder.handle_input(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame().unwrap() {
            match frame {
                Frame::Data(data) => frames.push(data.to_vec()),
                Frame::Tick => frames.push(Vec::new()),
            }
        }
        frames
    }

    /// (kind, seq, frag id, part) of a fragment frame.
    fn fragment(frame: &[u8]) -> (u8, u64, u64, &[u8]) {
        assert_eq!(frame[0], 131);
        let seq = u64::from_be_bytes(frame[2..10].try_into().unwrap());
        let id = u64::from_be_bytes(frame[10..18].try_into().unwrap());
        let part = if frame[1] == 69 {
            assert_eq!(frame[18], 0, "empty atom cache header");
            &frame[19..]
        } else {
            &frame[18..]
        };
        (frame[1], seq, id, part)
    }

    #[test]
    fn a_large_message_is_cut_into_fragments_counting_down() {
        let mut q = SendQueue::new(4);
        q.push_message(Some(&pid(1)), chunks(b"0123456789".to_vec()));
        let mut out = Vec::new();
        while !q.is_empty() {
            q.poll(&mut out);
        }
        let frames = frames(&out);
        let got: Vec<_> = frames.iter().map(|f| fragment(f)).collect();
        assert_eq!(
            got,
            vec![
                (69, 1, 3, &b"0123"[..]),
                (70, 1, 2, &b"4567"[..]),
                (70, 1, 1, &b"89"[..]),
            ]
        );
    }

    #[test]
    fn small_frames_and_other_senders_overtake_a_large_message() {
        let mut q = SendQueue::new(4);
        q.push_message(Some(&pid(1)), chunks(vec![b'L'; 12]));
        let mut out = Vec::new();
        q.poll(&mut out);
        // Another sender's small message and a tick go out before the rest.
        q.push_message(Some(&pid(2)), chunks(b"hi".to_vec()));
        q.push_frame(&[0, 0, 0, 0]);
        q.poll(&mut out);
        let frames = frames(&out);
        assert_eq!(fragment(&frames[0]).2, 3);
        assert_eq!(frames[1], b"\x83\x44\x00hi");
        assert_eq!(frames[2], b"");
        assert_eq!(fragment(&frames[3]).2, 2);
    }

    #[test]
    fn a_sender_keeps_its_order_behind_its_large_message() {
        let mut q = SendQueue::new(4);
        q.push_message(Some(&pid(1)), chunks(vec![b'L'; 8]));
        q.push_message(Some(&pid(1)), chunks(b"after".to_vec()));
        q.push_message(Some(&pid(1)), chunks(b"s".to_vec()));
        assert_eq!(q.backlog(), 6);
        assert_eq!(q.streamed_messages(), 3);
        let mut out = Vec::new();
        while !q.is_empty() {
            q.poll(&mut out);
        }
        let frames = frames(&out);
        assert_eq!(frames.len(), 5);
        assert_eq!(fragment(&frames[0]).2, 2);
        assert_eq!(fragment(&frames[1]).2, 1);
        // "after" exceeds the fragment size: fragments of its own sequence.
        assert_eq!(fragment(&frames[2]), (69, 2, 2, &b"afte"[..]));
        assert_eq!(fragment(&frames[3]), (70, 2, 1, &b"r"[..]));
        assert_eq!(frames[4], b"\x83\x44\x00s");
        assert_eq!(q.backlog(), 0);
    }

    #[test]
    fn streams_of_different_senders_take_turns() {
        let mut q = SendQueue::new(2);
        q.push_message(Some(&pid(1)), chunks(b"aaaa".to_vec()));
        q.push_message(None, chunks(b"bbbb".to_vec()));
        let mut out = Vec::new();
        while !q.is_empty() {
            q.poll(&mut out);
        }
        let order: Vec<(u64, u64)> = frames(&out)
            .iter()
            .map(|f| {
                let (_, seq, id, _) = fragment(f);
                (seq, id)
            })
            .collect();
        assert_eq!(order, vec![(1, 2), (2, 2), (1, 1), (2, 1)]);
    }

    #[test]
    fn chunks_carry_the_same_bytes_as_one_buffer() {
        let fill = |q: &mut SendQueue| {
            q.push_message(Some(&pid(1)), chunks(vec![b'L'; 10]));
            q.push_message(Some(&pid(1)), chunks(b"s".to_vec()));
            q.push_message(Some(&pid(2)), chunks(b"hi".to_vec()));
            q.push_frame(&[0, 0, 0, 0]);
        };
        let (mut flat, mut chunked) = (SendQueue::new(4), SendQueue::new(4));
        fill(&mut flat);
        fill(&mut chunked);
        let mut out = Vec::new();
        let mut chunks = VecDeque::new();
        while !flat.is_empty() {
            let n = flat.poll(&mut out);
            assert_eq!(chunked.poll_chunks(&mut chunks), n);
        }
        assert!(chunked.is_empty());
        assert_eq!(chunks.iter().flatten().copied().collect::<Vec<u8>>(), out);
        assert_eq!(frames(&out).len(), 6);
    }

    #[test]
    fn fragments_are_slices_of_a_shared_chunk_not_copies() {
        let shared = Bytes::from(vec![b'B'; 10]);
        let mut q = SendQueue::new(4);
        q.push_message(
            Some(&pid(1)),
            vec![Bytes::from_static(b"hd"), shared.clone()],
        );
        let mut out = VecDeque::new();
        while !q.is_empty() {
            q.poll_chunks(&mut out);
        }
        let inside = |chunk: &Bytes| {
            let range = shared.as_ptr_range();
            !chunk.is_empty() && range.contains(&chunk.as_ptr())
        };
        // Fragments of 4: "hdBB", "BBBB", "BBBB": all but 2 bytes shared.
        let shared_bytes: usize = out.iter().filter(|c| inside(c)).map(Bytes::len).sum();
        assert_eq!(shared_bytes, 10);
    }
}
