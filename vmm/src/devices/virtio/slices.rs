//! Scatter lists over guest memory: a descriptor chain's buffers as
//! `VolatileSlice`s, split into header and payload without copying the
//! payload. Every length comes from the guest, so all arithmetic is checked
//! and every access stays inside the slices.

use vm_memory::{Bytes, GuestMemory, GuestMemoryMmap, VolatileSlice};

/// Guest buffers in descriptor order. Requests have a handful of buffers,
/// so the list lives inline: no heap allocation per request.
pub(crate) type SliceList<'a> = smallvec::SmallVec<[VolatileSlice<'a>; 4]>;

/// Total length of the list, or None if it overflows.
pub(crate) fn total_len(list: &[VolatileSlice<'_>]) -> Option<usize> {
    list.iter()
        .try_fold(0usize, |acc, s| acc.checked_add(s.len()))
}

/// Maps one descriptor (`addr`, `len`) to slices of guest memory.
pub(crate) fn map_descriptor<'a>(
    mem: &'a GuestMemoryMmap,
    addr: vm_memory::GuestAddress,
    len: usize,
    out: &mut SliceList<'a>,
) -> Result<(), vm_memory::GuestMemoryError> {
    for slice in mem.get_slices(addr, len, vm_memory::Permissions::ReadWrite)? {
        out.push(slice?);
    }
    Ok(())
}

/// Splits `list` after `at` bytes: returns (first `at` bytes, the rest).
/// None if the list is shorter than `at`.
pub(crate) fn split_at<'a>(
    list: &[VolatileSlice<'a>],
    at: usize,
) -> Option<(SliceList<'a>, SliceList<'a>)> {
    let mut head = SliceList::new();
    let mut tail = SliceList::new();
    let mut need = at;
    for s in list {
        if need == 0 {
            tail.push(*s);
        } else if s.len() <= need {
            need -= s.len();
            head.push(*s);
        } else {
            head.push(s.subslice(0, need).ok()?);
            tail.push(s.offset(need).ok()?);
            need = 0;
        }
    }
    (need == 0).then_some((head, tail))
}

/// Truncates `list` to its first `len` bytes (or fewer if shorter).
pub(crate) fn truncate<'a>(list: &[VolatileSlice<'a>], len: usize) -> SliceList<'a> {
    match split_at(list, len) {
        Some((head, _)) => head,
        None => list.iter().copied().collect(),
    }
}

/// Copies from the list into `buf`; returns the bytes copied.
pub(crate) fn read_into(list: &[VolatileSlice<'_>], buf: &mut [u8]) -> usize {
    let mut done = 0;
    for s in list {
        if done == buf.len() {
            break;
        }
        let n = s.len().min(buf.len() - done);
        match s.read_slice(&mut buf[done..done + n], 0) {
            Ok(()) => done += n,
            Err(_) => break,
        }
    }
    done
}

/// Copies `buf` into the list; returns the bytes copied.
pub(crate) fn write_from(list: &[VolatileSlice<'_>], buf: &[u8]) -> usize {
    let mut done = 0;
    for s in list {
        if done == buf.len() {
            break;
        }
        let n = s.len().min(buf.len() - done);
        match s.write_slice(&buf[done..done + n], 0) {
            Ok(()) => done += n,
            Err(_) => break,
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::{GuestAddress, GuestMemoryBackend};

    fn mem() -> GuestMemoryMmap {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap()
    }

    #[test]
    fn split_copy_round_trip_across_slices() {
        let m = mem();
        let list: SliceList = [(0x100u64, 3usize), (0x200, 5), (0x300, 4)]
            .iter()
            .map(|&(a, l)| m.get_slice(GuestAddress(a), l).unwrap())
            .collect();
        assert_eq!(total_len(&list), Some(12));
        let (head, tail) = split_at(&list, 4).unwrap();
        assert_eq!((total_len(&head), total_len(&tail)), (Some(4), Some(8)));
        assert_eq!(write_from(&list, b"abcdefghijkl"), 12);
        let mut h = [0u8; 4];
        assert_eq!(read_into(&head, &mut h), 4);
        assert_eq!(&h, b"abcd");
        let mut t = [0u8; 20];
        assert_eq!(read_into(&tail, &mut t), 8);
        assert_eq!(&t[..8], b"efghijkl");
        assert!(split_at(&list, 13).is_none());
        assert_eq!(total_len(&truncate(&list, 6)), Some(6));
        assert_eq!(total_len(&truncate(&list, 100)), Some(12));
        let (h0, t0) = split_at(&list, 0).unwrap();
        assert!(h0.is_empty() && t0.len() == 3);
    }
}
