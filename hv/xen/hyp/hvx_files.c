/*
 * hvx_files.c - the files a call names (xfile): the identity (device, inode, birth time or
 * generation) of the fds a call's entry names, of the new fd its return gives, of the image an
 * exec runs, and the path of the first that wants one, read from the guest kernel through the
 * walker of the call's identity (hvx_walk.c).
 *
 * Per domain slot: what a file's super block and filesystem add to its inode's identity
 * (device, magic, UUID, birth time), by inode pointer, direct-mapped; under x->lock. An entry
 * counts only when the inode, its super block, its number and its generation read at this
 * call are those cached: an inode freed and given to another file has another number or
 * generation (ext4 and tmpfs draw a new generation for each inode they create).
 */
#include "hvx.h"
#include "hvx_policy.h"
#include "gw.h"

#define HVX_INC_SLOTS 64u         /* power of two */
struct hvx_inc {
	uint64_t inode;           /* 0: empty */
	uint64_t sb;
	struct gw_file_id id;     /* the whole identity as last read (its mode is read anew) */
};
static struct hvx_inc *incs;        /* HVX_INC_SLOTS per domain slot */

static int __init hvx_files_init(void)
{
	if ( !hvx_pool.size )
		return 0;
	incs = xzalloc_array(struct hvx_inc, HVX_MAX_DOMS * HVX_INC_SLOTS);
	if ( !incs )
		printk(XENLOG_ERR "hvprov: no memory for the inode cache: every file read whole\n");
	return 0;
}
__initcall(hvx_files_init);

/* Forget x's inodes (hvx_walk_reset: a new domain in the slot, or a new profile). */
void hvx_files_reset(struct hvx_dom *x)
{
	if ( incs )
		memset(&incs[(x - hvx_doms) * HVX_INC_SLOTS], 0, HVX_INC_SLOTS * sizeof(*incs));
}

/* The event's identity of a file the walker identified: its birth time where the walker reads
 * one (ext4, tmpfs), else its i_generation; the same for every event of the backend (start
 * events, returns), since the indexer keys files by both. */
void hvx_fileid(const struct gw_file_id *id, struct hvp_ev_fileid *f)
{
	memset(f, 0, sizeof(*f));
	f->dev_major = id->dev_major;
	f->dev_minor = id->dev_minor;
	f->ino = id->ino;
	f->mode = id->mode;
	if ( id->flags & GW_ID_BIRTH )
	{
		f->gen_sec = id->birth_sec;
		f->gen_nsec = id->birth_nsec;
		f->fid_flags = HVP_FID_BTIME;
	}
	else
	{
		f->gen_sec = id->i_generation;
		f->fid_flags = HVP_FID_IGEN;
	}
}

/* file identity (xfile): the kinds of file whose path names them (a pipe's or a socket's
 * dentry is its own parent: d_path names it "pipe:[N]", the walk ends with GW_EUNREACH) */
static bool named_kind(uint32_t mode)
{
	switch ( mode & 0170000 )
	{
	case 0100000: case 0040000: case 0120000: case 0020000: case 0060000:
		return true;
	default:
		return false;
	}
}

/* The identity of file: its inode read at every call, the rest from x's inode cache when it
 * holds that inode (hvx_inc). */
static int file_identity(struct hvx_dom *x, struct gw_guest *g, uint64_t file,
			 struct gw_file_id *id)
{
	struct hvx_inc *e;
	uint64_t inode, sb;
	uint32_t mode;
	bool hit = false;
	int rc = gw_file_inode(g, file, &inode, &sb, id);

	if ( rc || !incs )
		return rc ?: gw_inode_identity(g, inode, sb, id);
	mode = id->mode;          /* chmod changes it: read at every call */
	spin_lock(&x->lock);
	e = &incs[(x - hvx_doms) * HVX_INC_SLOTS + hash64(inode, HVX_INC_SLOTS)];
	if ( e->inode == inode && e->sb == sb && e->id.ino == id->ino &&
	     e->id.i_generation == id->i_generation )
	{
		*id = e->id;
		id->mode = mode;
		hit = true;
	}
	spin_unlock(&x->lock);
	if ( hit )
		return 0;
	rc = gw_inode_identity(g, inode, sb, id);
	if ( rc )
		return rc;
	spin_lock(&x->lock);
	e = &incs[(x - hvx_doms) * HVX_INC_SLOTS + hash64(inode, HVX_INC_SLOTS)];
	e->inode = inode;
	e->sb = sb;
	e->id = *id;
	spin_unlock(&x->lock);
	return 0;
}

/*
 * The files an event names, read through v's current task: q[i].rc and q[i].id for each, and
 * for the first that wants one its path, named into pathbuf. The fd table is the guest's own
 * and may change under us (another thread closing or opening): every read is bounded and
 * checked by the walker (fd < max_fds, kernel-half pointers), so a torn table gives an error
 * or another file's identity, never a hang or a read outside the domain.
 */
void hvx_files(struct hvx_dom *x, const struct vcpu *v, const struct hvx_who *w,
	       struct hvx_fq *q, unsigned int n, char *pathbuf, uint32_t pathsz)
{
	struct gw_guest *g;
	uint64_t task = 0, files = 0;
	bool named = false, have_files = false;
	unsigned int i;
	int rc;

	for ( i = 0; i < n; i++ )
	{
		q[i].rc = GW_EPROFILE;
		q[i].path_rc = GW_ENOENT;
		q[i].path_len = 0;
		q[i].path = NULL;
	}
	/* hvx_who's walk of this call goes on when it can: its translations, its task */
	g = hvx_walk_files(x, v, w, &files, &have_files);
	if ( g && have_files )
		task = w->task;
	rc = g ? 0 : GW_EPROFILE;
	if ( !rc && !task )
		rc = gw_current_task(g, read_gs_shadow(), &task);
	for ( i = 0; i < n; i++ )
	{
		struct hvx_fq *f = &q[i];
		struct gw_file_id id;
		uint64_t file = 0;

		f->rc = rc;
		if ( rc )
			continue;
		if ( f->what == HVX_FQ_EXE )
			f->rc = gw_task_exe(g, task, &file);
		else if ( have_files )
			f->rc = gw_files_file(g, files, f->fd, &file);
		else
			f->rc = gw_task_file(g, task, f->fd, &file);
		if ( !f->rc )
			f->rc = file_identity(x, g, file, &id);
		if ( f->rc )
			continue;
		hvx_fileid(&id, &f->id);
		if ( f->want_path && !named && pathbuf && named_kind(id.mode) )
		{
			named = true;
			f->path_rc = gw_file_path(g, task, file, pathbuf, pathsz, &f->path_len);
			if ( !f->path_rc )
				f->path = pathbuf;
		}
	}
	hvx_walk_end();
}
