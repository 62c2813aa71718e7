//! In-memory blob store for uploaded files, with a per-file size cap.

use bytes::Bytes;
use dashmap::DashMap;
use serde::Serialize;

use super::clock::Millis;

#[derive(Debug, Clone, Serialize)]
pub struct Blob {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub size: usize,
    #[serde(skip)]
    pub data: Bytes,
    pub created_ms: Millis,
}

#[derive(Debug, Default)]
pub struct FileStore {
    blobs: DashMap<String, Blob>,
}

impl FileStore {
    pub fn put(&self, blob: Blob) {
        self.blobs.insert(blob.id.clone(), blob);
    }

    pub fn get(&self, id: &str) -> Option<Blob> {
        self.blobs.get(id).map(|b| b.clone())
    }

    pub fn remove(&self, id: &str) -> Option<Blob> {
        self.blobs.remove(id).map(|(_, b)| b)
    }

    pub fn len(&self) -> usize {
        self.blobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty()
    }

    /// Metadata of every blob, by id.
    pub fn list(&self) -> Vec<Blob> {
        let mut v: Vec<Blob> = self.blobs.iter().map(|b| b.clone()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}
