// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_hostile.c - a domU kernel module for the Xen hook's hostile-structures test
 * (hv/xen/README.md, "Hostile guest structures"). Built against the domU kernel's headers by
 * hv/xen/build.sh module; loaded by the policy run's third domU (tests/domu-init.sh, mode
 * hostile), whose helper tests/hvx_hostile_run.c drives it.
 *
 * /dev/hvx_hostile takes three ioctls from one task:
 *   HVH_PLANT case: point the caller's task->fs at hostile structures that the hook walks at
 *                   each call's entry to name the CWD (hv/guest/gw_walk.c, build_path);
 *   HVH_PLANT_FILE case | fd << 8: point the f_path of the caller's open file fd at them: the
 *                   hook walks them at the return of a dup of fd, to name the new fd's file;
 *                   one more case, inode_unmapped, points its f_inode at the unmapped page
 *                   (the identity the hook reads at dup's entry and return);
 *   HVH_RESTORE:    put back what was planted (the caller's own fs_struct, the file's path).
 * Between a plant and its restore the caller must make no call that makes the guest kernel
 * itself follow what was planted: for task->fs no path lookup, getcwd, fork, exec or exit,
 * only calls the kernel rejects before that (openat with a NULL path: EFAULT in getname); for
 * a file only dup (which copies the file pointer and reads neither f_path nor f_inode), no
 * close of its last fd. Nothing else reads another task's fs or fds in the test's domU (no
 * /proc readers).
 *
 * The cases (HVH_*), all in this module's own memory, none reachable from the kernel's own
 * lists: a cycle of two dentries (d_parent), task->fs (for a file: its f_path.dentry) pointing
 * at an unmapped page (the guard page after a vmalloc'd page), a dentry whose name length is
 * 2^31, a loop of two mounts (mnt_parent) whose roots are their mount points, a dentry that is
 * its own parent below its mount's root (disconnected: the kernel calls the path unreachable).
 *
 * struct mount is private to the kernel (fs/mount.h, not in the headers package): its size and
 * the offsets of mnt, mnt_parent and mnt_mountpoint are module parameters taken from the
 * kernel profile (hvprov profile, from the same build's debug info), so the module plants what
 * the hook reads with the same profile. The other structs come from the headers; the
 * parameters dentry_*, fs_struct_pwd and task_struct_fs are the profile's offsets of what the
 * module writes through the headers, checked at load: a headers package of another build
 * would plant where the hook does not look, and the test would prove nothing.
 */
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define HVH_PLANT _IO('H', 1)
#define HVH_RESTORE _IO('H', 2)
#define HVH_PLANT_FILE _IO('H', 3)

/* HVH_INODE_UNMAPPED is a file case only: the file's f_inode on the guard page. */
enum { HVH_CYCLE = 1, HVH_FS_UNMAPPED, HVH_NAME_LEN, HVH_MOUNT_LOOP, HVH_SELF_PARENT,
       HVH_NCASES, HVH_INODE_UNMAPPED = HVH_NCASES, HVH_NFILECASES };

static int mount_size = -1, mount_mnt = -1, mount_mnt_parent = -1, mount_mnt_mountpoint = -1;
static int dentry_d_parent = -1, dentry_d_name = -1, fs_struct_pwd = -1, task_struct_fs = -1;
module_param(mount_size, int, 0444);
module_param(mount_mnt, int, 0444);
module_param(mount_mnt_parent, int, 0444);
module_param(mount_mnt_mountpoint, int, 0444);
module_param(dentry_d_parent, int, 0444);
module_param(dentry_d_name, int, 0444);
module_param(fs_struct_pwd, int, 0444);
module_param(task_struct_fs, int, 0444);

struct hvh_fake {
	struct fs_struct fs;
	struct dentry d[2];
};

static DEFINE_MUTEX(hvh_lock);
static struct hvh_fake *fake;     /* the planted fs_struct and dentries */
static char *mounts;              /* two fake struct mounts, mount_stride apart */
static size_t mount_stride;
static void *vpage;               /* a vmalloc'd page: the page after it is its guard */
static struct task_struct *planted;
static struct fs_struct *saved;
static struct file *planted_file;  /* HVH_PLANT_FILE: the file (a reference held), its path */
static struct path saved_path;
static struct inode *saved_inode;

static void set_name(struct dentry *d, const char *name, u32 len)
{
	struct qstr q = QSTR_INIT(name, len);

	memcpy(&d->d_name, &q, sizeof(q));
}

static void put_ptr(char *base, int off, const void *p)
{
	memcpy(base + off, &p, sizeof(p));
}

/* The hostile (mount, dentry) of case kase in p, hanging below real where it has a parent. */
static void hvh_path(unsigned long kase, const struct path *real, struct path *p)
{
	char *m0 = mounts, *m1 = mounts + mount_stride;
	struct dentry *d = &fake->d[0];

	/* no references taken: only the hook reads these, and only until HVH_RESTORE */
	memset(fake->d, 0, sizeof(fake->d));
	memset(mounts, 0, 2 * mount_stride);
	p->mnt = real->mnt;
	p->dentry = d;
	switch (kase) {
	case HVH_CYCLE:
		set_name(&fake->d[0], "a", 1);
		set_name(&fake->d[1], "b", 1);
		fake->d[0].d_parent = &fake->d[1];
		fake->d[1].d_parent = &fake->d[0];
		break;
	case HVH_FS_UNMAPPED:
		p->dentry = (struct dentry *)((char *)vpage + PAGE_SIZE);
		break;
	case HVH_NAME_LEN:
		set_name(d, "n", 0x80000000u);
		d->d_parent = real->dentry;
		break;
	case HVH_MOUNT_LOOP:
		set_name(d, "d", 1);
		d->d_parent = d;
		((struct vfsmount *)(m0 + mount_mnt))->mnt_root = d;
		((struct vfsmount *)(m1 + mount_mnt))->mnt_root = d;
		put_ptr(m0, mount_mnt_parent, m1);
		put_ptr(m1, mount_mnt_parent, m0);
		put_ptr(m0, mount_mnt_mountpoint, d);
		put_ptr(m1, mount_mnt_mountpoint, d);
		p->mnt = (struct vfsmount *)(m0 + mount_mnt);
		break;
	case HVH_SELF_PARENT:
		set_name(d, "s", 1);
		d->d_parent = d;
		break;
	}
}

/* What the caller's task->fs will point at for case kase: for fs_unmapped the guard page
 * itself, else a fake fs_struct (users 0, so even an exit_fs would not free it) whose root is
 * the real one and whose pwd is the case's path. */
static void *hvh_build(unsigned long kase, const struct fs_struct *real)
{
	if (kase == HVH_FS_UNMAPPED)
		return (char *)vpage + PAGE_SIZE;
	memset(&fake->fs, 0, sizeof(fake->fs));
	fake->fs.root = real->root;
	hvh_path(kase, &real->pwd, &fake->fs.pwd);
	return &fake->fs;
}

/* Put back what the caller planted (hvh_lock held). */
static void hvh_restore(void)
{
	if (planted_file) {
		planted_file->f_path = saved_path;
		planted_file->f_inode = saved_inode;
		fput(planted_file);
		planted_file = NULL;
	} else {
		task_lock(current);
		current->fs = saved;
		task_unlock(current);
		saved = NULL;
	}
	planted = NULL;
}

static long hvh_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	long rc = 0;
	void *p;

	mutex_lock(&hvh_lock);
	switch (cmd) {
	case HVH_PLANT:
		if (planted) {
			rc = -EBUSY;
			break;
		}
		if (arg == 0 || arg >= HVH_NCASES || !current->fs) {
			rc = -EINVAL;
			break;
		}
		p = hvh_build(arg, current->fs);
		task_lock(current);
		saved = current->fs;
		current->fs = p;
		task_unlock(current);
		planted = current;
		break;
	case HVH_PLANT_FILE: {
		struct file *f;

		if (planted) {
			rc = -EBUSY;
			break;
		}
		if ((arg & 0xff) == 0 || (arg & 0xff) >= HVH_NFILECASES || (arg >> 8) > INT_MAX) {
			rc = -EINVAL;
			break;
		}
		f = fget(arg >> 8);
		if (!f) {
			rc = -EBADF;
			break;
		}
		saved_path = f->f_path;
		saved_inode = f->f_inode;
		if ((arg & 0xff) == HVH_INODE_UNMAPPED)
			f->f_inode = (struct inode *)((char *)vpage + PAGE_SIZE);
		else
			hvh_path(arg & 0xff, &saved_path, &f->f_path);
		planted_file = f;
		planted = current;
		break;
	}
	case HVH_RESTORE:
		if (planted != current) {
			rc = -EPERM;
			break;
		}
		hvh_restore();
		break;
	default:
		rc = -ENOTTY;
	}
	mutex_unlock(&hvh_lock);
	return rc;
}

/* A planting task that closes the device without HVH_RESTORE gets back what it planted. */
static int hvh_release(struct inode *inode, struct file *f)
{
	mutex_lock(&hvh_lock);
	if (planted == current)
		hvh_restore();
	mutex_unlock(&hvh_lock);
	return 0;
}

static const struct file_operations hvh_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hvh_ioctl,
	.release = hvh_release,
};

static struct miscdevice hvh_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hvx_hostile",
	.fops = &hvh_fops,
};

/* The profile's offsets against this build's headers, and struct mount's bounds. */
static int hvh_params_ok(void)
{
	static const struct { const char *what; size_t want; } same[] = {
		{ "dentry_d_parent", offsetof(struct dentry, d_parent) },
		{ "dentry_d_name", offsetof(struct dentry, d_name) },
		{ "fs_struct_pwd", offsetof(struct fs_struct, pwd) },
		{ "task_struct_fs", offsetof(struct task_struct, fs) },
	};
	int got[] = { dentry_d_parent, dentry_d_name, fs_struct_pwd, task_struct_fs };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(same); i++)
		if (got[i] < 0 || (size_t)got[i] != same[i].want) {
			pr_err("hvx_hostile: %s=%d, but these headers say %zu (another build?)\n",
			       same[i].what, got[i], same[i].want);
			return 0;
		}
	if (mount_size <= 0 || mount_size > 4096 || mount_mnt < 0 ||
	    mount_mnt + sizeof(struct vfsmount) > (size_t)mount_size || (mount_mnt & 7) ||
	    mount_mnt_parent < 0 || mount_mnt_parent + 8 > mount_size || (mount_mnt_parent & 7) ||
	    mount_mnt_mountpoint < 0 || mount_mnt_mountpoint + 8 > mount_size ||
	    (mount_mnt_mountpoint & 7)) {
		pr_err("hvx_hostile: struct mount parameters missing or out of bounds (size %d, "
		       "mnt %d, mnt_parent %d, mnt_mountpoint %d)\n", mount_size, mount_mnt,
		       mount_mnt_parent, mount_mnt_mountpoint);
		return 0;
	}
	return 1;
}

static int __init hvh_init(void)
{
	int rc = -ENOMEM;

	if (!hvh_params_ok())
		return -EINVAL;
	mount_stride = ALIGN((size_t)mount_size, 64);
	fake = kzalloc(sizeof(*fake), GFP_KERNEL);
	mounts = kzalloc(2 * mount_stride, GFP_KERNEL);
	vpage = vmalloc(PAGE_SIZE);
	if (!fake || !mounts || !vpage)
		goto fail;
	rc = misc_register(&hvh_dev);
	if (rc)
		goto fail;
	pr_info("hvx_hostile: /dev/hvx_hostile ready (struct mount %d bytes, guard page at %px)\n",
		mount_size, (char *)vpage + PAGE_SIZE);
	return 0;
fail:
	vfree(vpage);
	kfree(mounts);
	kfree(fake);
	return rc;
}

static void __exit hvh_exit(void)
{
	misc_deregister(&hvh_dev);
	vfree(vpage);
	kfree(mounts);
	kfree(fake);
}

module_init(hvh_init);
module_exit(hvh_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvprov test: hostile structures for the Xen hook's guest walker");
