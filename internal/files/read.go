package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// DefaultPageSize is the page size of Revisions when first is 0; MaxPageSize is the most
// one page holds.
const (
	DefaultPageSize = 20
	MaxPageSize     = 1000
)

// metaFields are the revision columns listings load: everything but the inline bytes,
// which Open fetches on demand.
var metaFields = []string{
	revision.FieldID, revision.FieldResourceID, revision.FieldTimestamp, revision.FieldBlobKey,
	revision.FieldSize, revision.FieldSha256, revision.FieldContentType,
	revision.FieldAuthorUserID, revision.FieldAuthorControllerID,
}

// Page is one page of a file's revisions.
type Page struct {
	Revisions []*ent.Revision // newest first; Data is not loaded (use Open)
	// HasNext reports whether older revisions follow; pass EndCursor as after to get them.
	HasNext   bool
	EndCursor int // the id of the last revision on the page, 0 when the page is empty
	// TotalCount is the number of revisions of the file.
	TotalCount int
}

// Revisions lists the revisions of file newest first (by revision id, which follows write
// order; timestamps of one file increase with it). after is a cursor: the id of the last
// revision of the previous page, 0 for the first page. first is the page size (0 means
// DefaultPageSize, at most MaxPageSize).
func Revisions(ctx context.Context, client *ent.Client, file *ent.Resource, first, after int) (*Page, error) {
	if err := checkFile(file); err != nil {
		return nil, err
	}
	switch {
	case first < 0 || first > MaxPageSize:
		return nil, fault.New(fault.BadInput, "first must be between 0 and %d", MaxPageSize)
	case after < 0:
		return nil, fault.New(fault.BadInput, "bad revision cursor %d", after)
	case first == 0:
		first = DefaultPageSize
	}
	q := client.Revision.Query().Where(revision.ResourceID(file.ID))
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count revisions of %s: %w", file.Path, err)
	}
	if after > 0 {
		q.Where(revision.IDLT(after))
	}
	revs, err := q.Order(ent.Desc(revision.FieldID)).Limit(first + 1).Select(metaFields...).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list revisions of %s: %w", file.Path, err)
	}
	p := &Page{TotalCount: total}
	if len(revs) > first {
		p.HasNext = true
		revs = revs[:first]
	}
	p.Revisions = revs
	if len(revs) > 0 {
		p.EndCursor = revs[len(revs)-1].ID
	}
	return p, nil
}

// Revision returns revision id of file, or its latest revision when id is 0 (Data is not
// loaded; use Open). A revision of another resource is NOT_FOUND.
func Revision(ctx context.Context, client *ent.Client, file *ent.Resource, id int) (*ent.Revision, error) {
	if err := checkFile(file); err != nil {
		return nil, err
	}
	if id < 0 {
		return nil, fault.New(fault.BadInput, "bad revision %d", id)
	}
	q := client.Revision.Query().Where(revision.ResourceID(file.ID))
	if id > 0 {
		q.Where(revision.ID(id))
	}
	rev, err := q.Order(ent.Desc(revision.FieldID)).Select(metaFields...).First(ctx)
	switch {
	case ent.IsNotFound(err) && id == 0:
		return nil, fault.New(fault.NotFound, "file %s has no revisions", file.Path)
	case ent.IsNotFound(err):
		return nil, fault.New(fault.NotFound, "file %s has no revision %d", file.Path, id)
	case err != nil:
		return nil, fmt.Errorf("revision %d of %s: %w", id, file.Path, err)
	}
	return rev, nil
}

// Open returns the content of rev, from the row or from bulk storage. The reader seeks,
// so http.ServeContent can answer range requests from it; the caller closes it.
func Open(ctx context.Context, client *ent.Client, blobs blob.Store, rev *ent.Revision) (io.ReadSeekCloser, error) {
	if rev.BlobKey != nil {
		r, err := blobs.Open(ctx, *rev.BlobKey)
		if errors.Is(err, blob.ErrNotFound) {
			// A row whose blob is gone is lost data, not a client mistake: log it loudly.
			slog.ErrorContext(ctx, "revision blob missing", "revision", rev.ID, "blob_key", *rev.BlobKey)
			return nil, fault.Wrap(err, fault.NotFound, "the content of revision %d is missing", rev.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("open revision %d: %w", rev.ID, err)
		}
		return r, nil
	}
	data := rev.Data
	if int64(len(data)) != rev.Size {
		// Listings do not load the bytes; fetch them now.
		got, err := client.Revision.Query().Where(revision.ID(rev.ID)).Select(revision.FieldData).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, fault.New(fault.NotFound, "no revision %d", rev.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("read revision %d: %w", rev.ID, err)
		}
		data = got.Data
	}
	return bytesReader{bytes.NewReader(data)}, nil
}

type bytesReader struct{ *bytes.Reader }

func (bytesReader) Close() error { return nil }

// deleteBatch bounds the size of IN lists (PostgreSQL and SQLite limit bind parameters).
const deleteBatch = 500

// DeleteData removes every revision of the given resources, then their blobs. The blobs
// go only after the database commit, so a failed transaction never leaves rows pointing
// at deleted blobs; a blob that cannot be deleted afterwards is logged and reported.
func DeleteData(ctx context.Context, client *ent.Client, blobs blob.Store, resourceIDs []int) error {
	var keys []string
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		for start := 0; start < len(resourceIDs); start += deleteBatch {
			ids := resourceIDs[start:min(start+deleteBatch, len(resourceIDs))]
			found, err := c.Revision.Query().
				Where(revision.ResourceIDIn(ids...), revision.BlobKeyNotNil()).
				Select(revision.FieldBlobKey).Strings(ctx)
			if err != nil {
				return fmt.Errorf("find blobs to delete: %w", err)
			}
			keys = append(keys, found...)
			if _, err := c.Revision.Delete().Where(revision.ResourceIDIn(ids...)).Exec(ctx); err != nil {
				return fmt.Errorf("delete revisions: %w", err)
			}
			if err := c.Resource.Update().Where(resource.IDIn(ids...)).ClearLastRevisionAt().Exec(ctx); err != nil {
				return fmt.Errorf("clear last revision times: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	cleanup := context.WithoutCancel(ctx)
	var errs []error
	for _, k := range keys {
		if err := blobs.Delete(cleanup, k); err != nil {
			slog.ErrorContext(ctx, "orphan blob left after deleting revisions", "blob_key", k, "err", err)
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete %d of %d blobs: %w", len(errs), len(keys), errors.Join(errs...))
	}
	return nil
}
