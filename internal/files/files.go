// Package files is file revisions: every write of a file resource is a new Revision with
// its size, SHA-256, content type, author and time; small content lives in the database
// row, large content in bulk storage (internal/blob). It also serves revisions over HTTP.
// It may import ent, internal/blob, internal/database, internal/fault, internal/tree and
// the standard library; nothing above (graph, server).
package files

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// DefaultThreshold is the size from which content goes to bulk storage when the caller
// passes no threshold (the bulk_threshold setting defaults to the same).
const DefaultThreshold = 64 << 10

// sniffLen is how much http.DetectContentType looks at.
const sniffLen = 512

// maxContentTypeLen is the schema's limit on Revision.content_type.
const maxContentTypeLen = 200

// Author is who wrote a revision: a user, a controller (acting through its key), both or
// neither (the system). Zero means none.
type Author struct {
	UserID       int
	ControllerID int
}

// errTooLarge is raised inside the upload stream when content passes the size limit.
var errTooLarge = errors.New("content larger than the limit")

// Write stores content as a new revision of file and returns it (without its bytes).
//
// Content of at least threshold bytes (DefaultThreshold when threshold <= 0) is streamed to
// blobs while it is hashed, so memory use stays near max(threshold, 512) bytes whatever the
// size; smaller content is kept in the row. maxSize > 0 refuses larger content with
// BAD_USER_INPUT. An empty contentType is sniffed with http.DetectContentType. The bytes
// are stored exactly as given. If the database transaction fails after the blob was
// written, the blob is deleted again.
func Write(ctx context.Context, client *ent.Client, blobs blob.Store, file *ent.Resource,
	content io.Reader, contentType string, author Author, threshold, maxSize int64,
) (*ent.Revision, error) {
	if err := checkFile(file); err != nil {
		return nil, err
	}
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if contentType != "" {
		if err := checkContentType(contentType); err != nil {
			return nil, err
		}
	}
	head := make([]byte, max(threshold, sniffLen))
	n, err := io.ReadFull(content, head)
	whole := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !whole {
		return nil, fmt.Errorf("read content of %s: %w", file.Path, err)
	}
	head = head[:n]
	if maxSize > 0 && int64(n) > maxSize {
		return nil, tooLarge(maxSize)
	}
	if contentType == "" {
		contentType = http.DetectContentType(head[:min(n, sniffLen)])
	}

	sum := sha256.New()
	rev := revisionFields{contentType: contentType, author: author}
	if whole && int64(n) < threshold {
		sum.Write(head)
		rev.data, rev.size = head, int64(n)
	} else {
		rest := content
		if whole {
			rest = eofReader{}
		}
		key, size, err := putBulk(ctx, blobs, io.MultiReader(bytes.NewReader(head), rest), sum, maxSize)
		if err != nil {
			return nil, fmt.Errorf("store content of %s: %w", file.Path, err)
		}
		rev.blobKey, rev.size = key, size
	}
	rev.sha256 = hex.EncodeToString(sum.Sum(nil))

	created, err := insertRevision(ctx, client, file, rev)
	if err != nil && rev.blobKey != "" {
		// The context may be what failed; the cleanup must run regardless.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := blobs.Delete(cleanup, rev.blobKey); derr != nil {
			slog.ErrorContext(ctx, "orphan blob left after failed revision write",
				"blob_key", rev.blobKey, "path", file.Path, "err", derr)
		}
	}
	if err != nil {
		return nil, err
	}
	return created, nil
}

type revisionFields struct {
	data        []byte
	blobKey     string
	size        int64
	sha256      string
	contentType string
	author      Author
}

// putBulk streams r into blobs through the hash and the size limit.
func putBulk(ctx context.Context, blobs blob.Store, r io.Reader, sum hash.Hash, maxSize int64) (string, int64, error) {
	if maxSize > 0 {
		r = &limitReader{r: r, left: maxSize}
	}
	// A buffered tee keeps hashing and writing in large chunks.
	key, size, err := blobs.Put(ctx, bufio.NewReaderSize(io.TeeReader(r, sum), 256<<10))
	if errors.Is(err, errTooLarge) {
		return "", 0, tooLarge(maxSize)
	}
	if err != nil {
		return "", 0, fmt.Errorf("put blob: %w", err)
	}
	return key, size, nil
}

func insertRevision(ctx context.Context, client *ent.Client, file *ent.Resource, f revisionFields) (*ent.Revision, error) {
	var created *ent.Revision
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		live, err := c.Resource.Query().
			Where(resource.ID(file.ID), tree.NotDeleted(), resource.TypeEQ(tree.File)).
			Exist(ctx)
		if err != nil {
			return fmt.Errorf("check file %s: %w", file.Path, err)
		}
		if !live {
			return fault.New(fault.NotFound, "file %s no longer exists", file.Path)
		}
		// Timestamps of one file strictly increase, so history order never depends on
		// clock resolution or on two writes within one microsecond.
		ts := time.Now().UTC().UnixMicro()
		last, err := c.Revision.Query().Where(revision.ResourceID(file.ID)).
			Order(ent.Desc(revision.FieldTimestamp)).Select(revision.FieldTimestamp).First(ctx)
		switch {
		case ent.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("last revision of %s: %w", file.Path, err)
		case last.Timestamp >= ts:
			ts = last.Timestamp + 1
		}
		create := c.Revision.Create().SetResourceID(file.ID).SetTimestamp(ts).
			SetSize(f.size).SetSha256(f.sha256).SetContentType(f.contentType)
		if f.blobKey != "" {
			create.SetBlobKey(f.blobKey)
		} else {
			create.SetData(f.data)
		}
		if f.author.UserID != 0 {
			create.SetAuthorUserID(f.author.UserID)
		}
		if f.author.ControllerID != 0 {
			create.SetAuthorControllerID(f.author.ControllerID)
		}
		created, err = create.Save(ctx)
		switch {
		case ent.IsConstraintError(err):
			return fault.Wrap(err, fault.BadInput, "the author of the revision of %s does not exist", file.Path)
		case err != nil:
			return fmt.Errorf("insert revision of %s: %w", file.Path, err)
		}
		if err := c.Resource.UpdateOneID(file.ID).SetLastRevisionAt(time.UnixMicro(ts).UTC()).Exec(ctx); err != nil {
			return fmt.Errorf("update last revision time of %s: %w", file.Path, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	created = created.Unwrap()
	created.Data = nil
	return created, nil
}

func checkFile(file *ent.Resource) error {
	if file == nil {
		return fault.New(fault.NotFound, "no such file")
	}
	if file.Type != tree.File {
		return fault.New(fault.BadInput, "%s is a %s, not a file", file.Path, file.Type)
	}
	return nil
}

func checkContentType(ct string) error {
	if len(ct) > maxContentTypeLen {
		return fault.New(fault.BadInput, "content type is longer than %d characters", maxContentTypeLen)
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return fault.Wrap(err, fault.BadInput, "content type %q is not a media type", ct)
	}
	return nil
}

func tooLarge(maxSize int64) error {
	return fault.Wrap(errTooLarge, fault.BadInput, "file is larger than the limit of %d bytes", maxSize)
}

// limitReader yields at most left bytes and fails with errTooLarge if more follow.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more proves the content is too large; exactly the limit is fine.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// eofReader is an empty reader; it stands for "nothing after the head".
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
