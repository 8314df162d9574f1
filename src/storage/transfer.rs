//! Large blobs without holding them in memory: an export is written block by block as its
//! chunks arrive from Anaplan, and an import's source blob is read as a stream of chunks.

use std::num::NonZero;

use azure_core::Bytes;
use azure_core::http::RequestContent;
use azure_core::http::headers::HeaderName;
use azure_storage_blob::models::{BlobClientDownloadOptions, BlockBlobClientCommitBlockListOptions, BlockLookupList};
use azure_storage_blob::{BlobClient, BlockBlobClient};
use futures_util::{Stream, StreamExt};

use super::StorageError;

/// Azure's limit on the committed blocks of one block blob.
const MAX_BLOCKS: usize = 50_000;

/// Writes a block blob block by block: each [`append`](BlockWriter::append) stages one
/// block (so memory is bounded by one block), [`finish`](BlockWriter::finish) commits the
/// list with the content type. Nothing is visible at the blob's name until `finish`; a
/// writer dropped before it leaves only uncommitted blocks, which Azure discards after a
/// week.
pub struct BlockWriter {
    blob: BlockBlobClient,
    /// For error messages: the blob's path (the URL never carries a SAS here).
    what: String,
    /// Random per writer, so two writers racing on the same blob name cannot commit each
    /// other's blocks.
    prefix: [u8; 16],
    ids: Vec<Vec<u8>>,
    bytes: u64,
}

impl std::fmt::Debug for BlockWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockWriter")
            .field("blob", &self.what)
            .field("blocks", &self.ids.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl BlockWriter {
    /// A writer for the blob `client` addresses (from [`super::BlobAccount::blob`]). Takes
    /// a reference because the SDK's `BlobClient` is not `Clone` and the caller usually
    /// still needs it (to read the blob back, or for its URL); the writer keeps its own
    /// block-blob client on the same pipeline.
    pub fn new(client: &BlobClient) -> Self {
        BlockWriter {
            what: format!("blob {}", client.url().path()),
            blob: client.block_blob_client(),
            prefix: *azure_core::Uuid::new_v4().as_bytes(),
            ids: Vec::new(),
            bytes: 0,
        }
    }

    /// A write's error: writing blocks, "not found" can only mean the container.
    fn write_error(what: &str, e: azure_core::Error) -> StorageError {
        match StorageError::from_sdk(e, what) {
            StorageError::NotFound(what) => StorageError::NoContainer(what),
            other => other,
        }
    }

    /// Stages `bytes` as the next block. Empty input stages nothing.
    pub async fn append(&mut self, bytes: Bytes) -> Result<(), StorageError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let index = self.ids.len();
        self.bytes += self.stage(index, bytes).await?;
        self.ids.push(self.block_id(index));
        Ok(())
    }

    /// Commits the staged blocks, in the order they were appended, as the blob's content
    /// (an empty blob when nothing was appended), replacing any blob of that name.
    /// Returns the number of bytes written.
    pub async fn finish(mut self, content_type: &str) -> Result<u64, StorageError> {
        let ids = std::mem::take(&mut self.ids);
        self.commit_list(ids, content_type).await?;
        Ok(self.bytes)
    }

    /// Stages `bytes` as block `index` (from 0). Unlike [`append`](BlockWriter::append)
    /// this takes `&self`, so several blocks can be staged at once (in any order);
    /// [`commit`](BlockWriter::commit) then lists blocks `0..count` in order.
    /// Empty input stages nothing (and answers 0).
    pub async fn stage(&self, index: usize, bytes: Bytes) -> Result<u64, StorageError> {
        let len = bytes.len() as u64;
        if len == 0 {
            return Ok(0);
        }
        if index >= MAX_BLOCKS {
            return Err(StorageError::Other(format!(
                "{}: a block blob holds at most {MAX_BLOCKS} blocks; use larger chunks",
                self.what
            )));
        }
        let id = self.block_id(index);
        self.blob.stage_block(&id, len, bytes.into(), None).await.map_err(|e| Self::write_error(&self.what, e))?;
        Ok(len)
    }

    /// Commits blocks `0..count` staged with [`stage`](BlockWriter::stage), skipping the
    /// indexes in `empty` (nothing was staged for them), as the blob's content.
    pub async fn commit(self, count: usize, empty: &[usize], content_type: &str) -> Result<(), StorageError> {
        let ids = (0..count).filter(|i| !empty.contains(i)).map(|i| self.block_id(i)).collect();
        self.commit_list(ids, content_type).await
    }

    async fn commit_list(&self, ids: Vec<Vec<u8>>, content_type: &str) -> Result<(), StorageError> {
        let list = BlockLookupList { latest: Some(ids), ..Default::default() };
        let content: RequestContent<BlockLookupList, _> =
            list.try_into().map_err(|e| StorageError::from_sdk(e, &self.what))?;
        let options = BlockBlobClientCommitBlockListOptions {
            blob_content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        self.blob.commit_block_list(content, Some(options)).await.map_err(|e| Self::write_error(&self.what, e))?;
        Ok(())
    }

    /// The number of blocks staged so far.
    pub fn blocks(&self) -> usize {
        self.ids.len()
    }

    /// The bytes staged so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// 20 bytes (16 random, then the index big-endian): every id of a blob has the same
    /// length, as Azure requires, and the commit order comes from the list, not the ids.
    fn block_id(&self, index: usize) -> Vec<u8> {
        let mut id = self.prefix.to_vec();
        id.extend_from_slice(&(index as u32).to_be_bytes());
        id
    }
}

/// Reads a blob as a stream of byte chunks, never the whole blob in memory; returns its
/// length first. Used to send a blob to Anaplan chunk by chunk.
///
/// The SDK reads ranges of 4 MiB, two at a time, each pinned to the blob's ETag from the
/// first answer: a blob that changes while it is read fails the stream instead of mixing
/// two versions. At most a few ranges are buffered at once.
pub async fn read_stream(
    client: &BlobClient,
) -> Result<(u64, impl Stream<Item = Result<Bytes, StorageError>> + Send + Unpin + 'static), StorageError> {
    let what = format!("blob {}", client.url().path());
    let options = BlobClientDownloadOptions {
        parallel: NonZero::new(2),
        partition_size: NonZero::new(4 * 1024 * 1024),
        ..Default::default()
    };
    let response = client.download(Some(options)).await.map_err(|e| StorageError::from_sdk(e, &what))?;
    // The first answer is for the first range only: its Content-Range carries the total.
    let total = response
        .headers
        .get_optional_str(&HeaderName::from_static("content-range"))
        .and_then(|range| range.rsplit_once('/'))
        .and_then(|(_, total)| total.trim().parse::<u64>().ok());
    let length = total.or(response.properties.content_length).unwrap_or(0);
    let stream = response.body.map(move |chunk| chunk.map_err(|e| StorageError::from_sdk(e, &what)));
    Ok((length, stream))
}
