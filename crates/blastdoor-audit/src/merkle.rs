//! RFC 6962 / RFC 9162 Merkle tree math, sans-IO: leaf and node hashes, the [`Frontier`]
//! (compact range of the whole tree) that makes an append O(log n), tree heads over a slice of
//! leaf hashes, and inclusion and consistency proofs with their verifiers.
//!
//! leaf = SHA-256(0x00 || entry bytes), node = SHA-256(0x01 || left || right), and the hash of
//! the empty tree is SHA-256 of nothing.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash of a leaf holding `entry`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The roots of the perfect subtrees that make up a tree of `size` leaves, largest (leftmost)
/// first: one per set bit of `size`. Enough to append a leaf and to compute the root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    subtrees: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a frontier from its stored form; `None` when `bytes` do not hold exactly one
    /// 32-byte hash per set bit of `size`.
    pub fn from_parts(size: u64, bytes: &[u8]) -> Option<Frontier> {
        if bytes.len() != size.count_ones() as usize * 32 {
            return None;
        }
        let subtrees = bytes
            .chunks_exact(32)
            .map(|chunk| <Hash>::try_from(chunk).ok())
            .collect::<Option<Vec<Hash>>>()?;
        Some(Frontier { size, subtrees })
    }

    /// The stored form: the subtree roots concatenated, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.subtrees.concat()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash: merges equal-sized subtrees like a binary counter's carry.
    pub fn push(&mut self, leaf: Hash) {
        let mut carry = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            match self.subtrees.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                None => break,
            }
            size >>= 1;
        }
        self.subtrees.push(carry);
        self.size += 1;
    }

    /// The tree head (root hash) of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(last) = subtrees.next() else {
            return empty_root();
        };
        subtrees.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// The tree head of `leaves` (MTH in RFC 6962).
pub fn root_of(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.push(*leaf);
    }
    frontier.root()
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The audit path of leaf `index` in the tree of `leaves`, from the leaf upwards; `None` when
/// `index` is not a leaf of that tree.
pub fn inclusion_proof(index: u64, leaves: &[Hash]) -> Option<Vec<Hash>> {
    let index = usize::try_from(index).ok()?;
    if index >= leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    path(index, leaves, &mut proof);
    Some(proof)
}

fn path(index: usize, leaves: &[Hash], proof: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split_point(leaves.len());
    let (left, right) = leaves.split_at(k);
    if index < k {
        path(index, left, proof);
        proof.push(root_of(right));
    } else {
        path(index - k, right, proof);
        proof.push(root_of(left));
    }
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose head is `root`
/// (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let mut node_index = index;
    let mut last_index = size - 1;
    let mut hash = *leaf;
    for sibling in proof {
        if last_index == 0 {
            return false;
        }
        if node_index & 1 == 1 || node_index == last_index {
            hash = node_hash(sibling, &hash);
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_index >>= 1;
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        node_index >>= 1;
        last_index >>= 1;
    }
    last_index == 0 && hash == *root
}

/// The proof that the tree of the first `old_size` of `leaves` is a prefix of the tree of all
/// of them (RFC 6962 section 2.1.2); `None` when `old_size` is 0 or larger than the tree.
pub fn consistency_proof(old_size: u64, leaves: &[Hash]) -> Option<Vec<Hash>> {
    let old_size = usize::try_from(old_size).ok()?;
    if old_size == 0 || old_size > leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    subproof(old_size, leaves, true, &mut proof);
    Some(proof)
}

fn subproof(old_size: usize, leaves: &[Hash], complete: bool, proof: &mut Vec<Hash>) {
    if old_size == leaves.len() {
        if !complete {
            proof.push(root_of(leaves));
        }
        return;
    }
    let k = split_point(leaves.len());
    let (left, right) = leaves.split_at(k);
    if old_size <= k {
        subproof(old_size, left, complete, proof);
        proof.push(root_of(right));
    } else {
        subproof(old_size - k, right, false, proof);
        proof.push(root_of(left));
    }
}

/// Checks that the tree of `old_size` leaves with head `old_root` is a prefix of the tree of
/// `new_size` leaves with head `new_root` (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let mut node_index = old_size - 1;
    let mut last_index = new_size - 1;
    while node_index & 1 == 1 {
        node_index >>= 1;
        last_index >>= 1;
    }
    let mut hashes = path.iter();
    let Some(first) = hashes.next() else {
        return false;
    };
    let mut old_hash = *first;
    let mut new_hash = *first;
    for sibling in hashes {
        if last_index == 0 {
            return false;
        }
        if node_index & 1 == 1 || node_index == last_index {
            old_hash = node_hash(sibling, &old_hash);
            new_hash = node_hash(sibling, &new_hash);
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_index >>= 1;
            }
        } else {
            new_hash = node_hash(&new_hash, sibling);
        }
        node_index >>= 1;
        last_index >>= 1;
    }
    old_hash == *old_root && new_hash == *new_root && last_index == 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The RFC 6962 definition, recursively, with no shortcuts.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n);
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn known_answers() {
        // RFC 6962 test vectors: empty tree and a one-leaf tree of the empty entry.
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn frontier_round_trips_through_bytes() {
        let mut frontier = Frontier::new();
        for leaf in leaves(11) {
            frontier.push(leaf);
        }
        let again = Frontier::from_parts(11, &frontier.to_bytes()).unwrap();
        assert_eq!(again, frontier);
        assert!(Frontier::from_parts(12, &frontier.to_bytes()).is_none());
    }

    proptest! {
        #[test]
        fn frontier_root_matches_naive_recomputation(n in 0usize..300, pick in any::<prop::sample::Index>()) {
            let leaves = leaves(n);
            let prefix = pick.index(n + 1);
            let mut frontier = Frontier::new();
            for (i, leaf) in leaves.iter().enumerate() {
                if i == prefix {
                    prop_assert_eq!(frontier.root(), naive_root(&leaves[..i]));
                }
                frontier.push(*leaf);
            }
            prop_assert_eq!(frontier.root(), naive_root(&leaves));
            prop_assert_eq!(root_of(&leaves), naive_root(&leaves));
        }

        #[test]
        fn inclusion_proofs_verify_and_catch_changes(n in 1usize..200, pick in any::<prop::sample::Index>()) {
            let leaves = leaves(n);
            let root = naive_root(&leaves);
            let index = pick.index(n);
            let proof = inclusion_proof(index as u64, &leaves).unwrap();
            prop_assert!(verify_inclusion(index as u64, n as u64, &leaves[index], &proof, &root));
            let other = leaf_hash(b"forged");
            prop_assert!(!verify_inclusion(index as u64, n as u64, &other, &proof, &root));
            if n > 1 {
                let wrong_index = (index + 1) % n;
                prop_assert!(!verify_inclusion(wrong_index as u64, n as u64, &leaves[index], &proof, &root));
            }
        }

        #[test]
        fn consistency_proofs_verify_and_catch_rewrites(n in 1usize..200, pick in any::<prop::sample::Index>(), victim in any::<prop::sample::Index>()) {
            let leaves = leaves(n);
            let old_size = pick.index(n) + 1;
            let old_root = naive_root(&leaves[..old_size]);
            let new_root = naive_root(&leaves);
            let proof = consistency_proof(old_size as u64, &leaves).unwrap();
            prop_assert!(verify_consistency(old_size as u64, n as u64, &old_root, &new_root, &proof));
            // Rewrite one entry inside the old prefix: the new tree is no longer consistent.
            let mut rewritten = leaves.clone();
            let victim = victim.index(old_size);
            rewritten[victim] = leaf_hash(b"rewritten");
            let rewritten_root = naive_root(&rewritten);
            let proof = consistency_proof(old_size as u64, &rewritten).unwrap();
            prop_assert!(!verify_consistency(old_size as u64, n as u64, &old_root, &rewritten_root, &proof));
        }
    }
}
