// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem_edu: a driver for QEMU's "edu" device (1234:11e8), a PCI bus
 * master with a DMA engine, used in the rig as a p2p client that is not an
 * NVMe drive: through p2pmem's in-kernel API, and as a dma-buf importer of
 * memory a process exported (P2PMEM_IOC_EXPORT_DMABUF).
 *
 * The engine copies up to 4 KiB (here 2 KiB) between its internal buffer
 * (at 0x40000 in BAR0) and any bus address: register 0x80 source, 0x88 destination, 0x90
 * count, 0x98 command (bit 0 run, bit 1 from the buffer out to the
 * address).  QEMU runs each transfer 100 ms (virtual) after the command.
 *
 * Each bound device gets debugfs p2pmem_edu/<BDF>: write a command, read
 * the same open file for its one-line result.  SEED fills 2 KiB with
 * byte i = (SEED + i * 7) & 0xff.
 *   api SEED [PROVIDER]  p2pmem_find_many() for this device (or the
 *                        provider of PCI function PROVIDER), p2pmem_alloc(),
 *                        p2pmem_dma_map(); the engine copies the pattern
 *                        from RAM into the allocation and back into RAM;
 *                        both checked (the first through the kernel's
 *                        mapping of the BAR):
 *                          api ok provider=p2pmemN map=bus-addr dma=0x...
 *                          api refused|FAIL ...
 *   import FD SEED [nop2p]  the writer's dma-buf fd: attach (dynamic,
 *                        allow_peer2peer unless nop2p), map, the engine
 *                        writes the pattern to the buffer's first 2 KiB,
 *                        unmap, detach:
 *                          import ok dma=0x... len=N
 *                          import refused errno=N (attach) | FAIL ...
 *   hold FD SEED         the same, but the attachment and its mapping stay
 *                        until "release" or until the exporter revokes the
 *                        buffer (move_notify: the mapping is dropped at
 *                        once and the log says so)
 *   kexport SEED PROVIDER  p2pmem_dmabuf_alloc() of 64 KiB from the provider
 *                        of PCI function PROVIDER (a kernel client's
 *                        buffer), imported as above; the pattern written
 *                        and read back, the next page read back as zeroes:
 *                          kexport ok provider=p2pmemN dma=0x... len=N
 *   holdpin FD SEED      hold, as an importer without move_notify (7.x
 *                        only): its mapping pins the buffer, and the
 *                        provider's removal waits for "release", naming it
 *   status               held | revoked | none
 *   release              drop what hold kept
 */
#define pr_fmt(fmt) "p2pmem_edu: " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../compat.h"
#include "../include/p2pmem_client.h"

#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
P2PMEM_IMPORT_DMA_BUF_NS;
#endif

#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_OUT	0x2	/* from the engine's buffer to the address */
#define EDU_BUF		0x40000
#define EDU_BUF_SIZE	4096
/*
 * Bytes per transfer: QEMU 7.2's range check refuses a transfer that ends
 * exactly at the end of the engine's buffer (and stops the whole VM).
 */
#define EDU_XFER	2048

static struct dentry *edu_dir;

struct edu {
	struct pci_dev *pdev;
	void __iomem *mmio;
	struct dentry *file;
	struct mutex lock;		/* one command at a time */
	void *host;			/* EDU_BUF_SIZE of coherent RAM */
	dma_addr_t host_dma;
	char result[256];
	/* hold: under the buffer's reservation lock once attached */
	struct dma_buf *held;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	bool revoked;
};

static void edu_pattern(u8 *buf, unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < EDU_XFER; i++)
		buf[i] = (seed + i * 7) & 0xff;
}

/* One transfer of the engine; 0 or -ETIMEDOUT. */
static int edu_dma(struct edu *e, u64 src, u64 dst, bool out)
{
	unsigned long end = jiffies + 5 * HZ;

	writeq(src, e->mmio + EDU_DMA_SRC);
	writeq(dst, e->mmio + EDU_DMA_DST);
	writeq(EDU_XFER, e->mmio + EDU_DMA_CNT);
	writeq(EDU_CMD_RUN | (out ? EDU_CMD_OUT : 0), e->mmio + EDU_DMA_CMD);
	while (readq(e->mmio + EDU_DMA_CMD) & EDU_CMD_RUN) {
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		usleep_range(10000, 20000);
	}
	return 0;
}

/* The pattern from RAM into the engine, then out to bus address @dma. */
static int edu_write_pattern(struct edu *e, dma_addr_t dma, unsigned int seed)
{
	int ret;

	edu_pattern(e->host, seed);
	ret = edu_dma(e, e->host_dma, EDU_BUF, false);
	if (!ret)
		ret = edu_dma(e, EDU_BUF, dma, true);
	return ret;
}

/* The provider of PCI function @bdf, with a reference, or NULL. */
static struct p2pmem_dev *edu_provider(const char *bdf)
{
	unsigned int dom, bus, dev, fn;
	struct p2pmem_dev *p = NULL;
	struct pci_dev *ppdev;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return NULL;
	ppdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(dev, fn));
	if (ppdev) {
		p = p2pmem_find_by_pci(ppdev);
		pci_dev_put(ppdev);
	}
	return p;
}

static void edu_api(struct edu *e, unsigned int seed, const char *prov)
{
	struct device *client = &e->pdev->dev;
	enum p2pmem_map_type map;
	struct p2pmem_dev *p;
	u8 *want = NULL;
	dma_addr_t dma;
	void *addr;
	int ret;

	p = prov ? edu_provider(prov) : p2pmem_find_many(&client, 1, &map);
	if (!p) {
		snprintf(e->result, sizeof(e->result), "api refused no provider for %s\n",
			 pci_name(e->pdev));
		return;
	}
	addr = p2pmem_alloc(p, EDU_BUF_SIZE);
	if (!addr) {
		snprintf(e->result, sizeof(e->result), "api FAIL alloc from %s\n", p2pmem_name(p));
		goto put;
	}
	dma = p2pmem_dma_map(p, client, addr, EDU_BUF_SIZE, DMA_BIDIRECTIONAL, &map);
	if (dma == DMA_MAPPING_ERROR) {
		snprintf(e->result, sizeof(e->result), "api refused %s cannot reach %s\n",
			 pci_name(e->pdev), p2pmem_name(p));
		goto free;
	}
	want = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
	if (!want) {
		snprintf(e->result, sizeof(e->result), "api FAIL no memory\n");
		goto unmap;
	}
	edu_pattern(want, seed);
	ret = edu_write_pattern(e, dma, seed);
	if (ret) {
		snprintf(e->result, sizeof(e->result), "api FAIL engine %d\n", ret);
		goto unmap;
	}
	/* The bytes in the BAR, through the kernel's mapping of it. */
	if (memcmp(addr, want, EDU_XFER)) {
		snprintf(e->result, sizeof(e->result),
			 "api FAIL pattern not in the BAR (byte 0 %#x, want %#x)\n",
			 *(u8 *)addr, want[0]);
		goto unmap;
	}
	/* And back: the BAR into the engine, the engine into cleared RAM. */
	memset(e->host, 0, EDU_BUF_SIZE);
	ret = edu_dma(e, dma, EDU_BUF, false);
	if (!ret)
		ret = edu_dma(e, EDU_BUF, e->host_dma, true);
	if (ret || memcmp(e->host, want, EDU_XFER)) {
		snprintf(e->result, sizeof(e->result),
			 "api FAIL read back from the BAR (%d)\n", ret);
		goto unmap;
	}
	snprintf(e->result, sizeof(e->result), "api ok provider=%s map=%s dma=%#llx bytes=%d\n",
		 p2pmem_name(p), map == P2PMEM_MAP_BUS_ADDR ? "bus-addr" : "host-bridge",
		 (unsigned long long)dma, EDU_XFER);
unmap:
	kfree(want);
	p2pmem_dma_unmap(client, dma, EDU_BUF_SIZE, DMA_BIDIRECTIONAL, map);
free:
	p2pmem_free(p, addr, EDU_BUF_SIZE);
put:
	p2pmem_put(p);
}

#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
/* The exporter revokes: drop the mapping now (the reservation lock is held). */
static void edu_move_notify(struct dma_buf_attachment *attach)
{
	struct edu *e = attach->importer_priv;

	/* one-shot imports unmap before they return: only hold keeps one */
	if (attach != e->attach)
		return;
	if (e->sgt) {
		dma_buf_unmap_attachment(attach, e->sgt, DMA_BIDIRECTIONAL);
		e->sgt = NULL;
	}
	e->revoked = true;
	pci_info(e->pdev, "p2pmem_edu: dma-buf revoked by its exporter: mapping dropped\n");
}

static const struct dma_buf_attach_ops edu_p2p_ops = {
	.allow_peer2peer = true,
	.P2PMEM_DMA_BUF_NOTIFY = edu_move_notify,
};

static const struct dma_buf_attach_ops edu_nop2p_ops = {
	.allow_peer2peer = false,
	.P2PMEM_DMA_BUF_NOTIFY = edu_move_notify,
};

#ifdef P2PMEM_HAVE_DMA_BUF_INVALIDATE
/*
 * An importer that cannot be told to let go (7.x allows it: its mappings
 * pin the buffer): removal must wait for it, naming it.
 */
static const struct dma_buf_attach_ops edu_pinning_ops = {
	.allow_peer2peer = true,
};
#endif

static void edu_release_held(struct edu *e)
{
	if (!e->held)
		return;
	dma_resv_lock(e->held->resv, NULL);
	if (e->sgt)
		dma_buf_unmap_attachment(e->attach, e->sgt, DMA_BIDIRECTIONAL);
	e->sgt = NULL;
	dma_resv_unlock(e->held->resv);
	dma_buf_detach(e->held, e->attach);
	dma_buf_put(e->held);
	e->held = NULL;
	e->attach = NULL;
	e->revoked = false;
}

static void edu_import(struct edu *e, int fd, unsigned int seed,
		       const struct dma_buf_attach_ops *ops, bool hold)
{
	const char *what = hold ? "hold" : "import";
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct dma_buf *dmabuf;
	dma_addr_t dma;
	size_t len;
	int ret;

	if (hold && e->held) {
		snprintf(e->result, sizeof(e->result), "hold FAIL already holding one\n");
		return;
	}
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf)) {
		snprintf(e->result, sizeof(e->result), "%s FAIL fd %d is no dma-buf (%ld)\n",
			 what, fd, PTR_ERR(dmabuf));
		return;
	}
	attach = dma_buf_dynamic_attach(dmabuf, &e->pdev->dev, ops, e);
	if (IS_ERR(attach)) {
		snprintf(e->result, sizeof(e->result), "%s refused errno=%ld\n", what,
			 -PTR_ERR(attach));
		dma_buf_put(dmabuf);
		return;
	}
	dma_resv_lock(dmabuf->resv, NULL);
	if (hold) {
		/* from here on move_notify drops this mapping */
		e->held = dmabuf;
		e->attach = attach;
		e->revoked = false;
	}
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (!IS_ERR(sgt) && hold)
		e->sgt = sgt;
	dma_resv_unlock(dmabuf->resv);
	if (IS_ERR(sgt)) {
		snprintf(e->result, sizeof(e->result), "%s refused map errno=%ld\n", what,
			 -PTR_ERR(sgt));
		goto detach;
	}
	dma = sg_dma_address(sgt->sgl);
	len = sg_dma_len(sgt->sgl);
	if (len < EDU_XFER) {
		snprintf(e->result, sizeof(e->result), "%s FAIL buffer of %zu bytes\n", what, len);
		ret = -EINVAL;
	} else {
		/* a revocation now would race the engine: the test never does */
		ret = edu_write_pattern(e, dma, seed);
		if (ret)
			snprintf(e->result, sizeof(e->result), "%s FAIL engine %d\n", what, ret);
		else
			snprintf(e->result, sizeof(e->result), "%s ok dma=%#llx len=%zu\n", what,
				 (unsigned long long)dma, len);
	}
	if (hold && !ret)
		return;
	dma_resv_lock(dmabuf->resv, NULL);
	if (!hold || e->sgt)
		dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(dmabuf->resv);
detach:
	if (hold) {
		dma_resv_lock(dmabuf->resv, NULL);
		e->held = NULL;
		e->attach = NULL;
		e->sgt = NULL;
		dma_resv_unlock(dmabuf->resv);
	}
	dma_buf_detach(dmabuf, attach);
	dma_buf_put(dmabuf);
}

/*
 * A kernel client's buffer (p2pmem_dmabuf_alloc()) imported by the engine:
 * the pattern written at its start and read back, the next page read back
 * as zeroes.
 */
static void edu_kexport(struct edu *e, unsigned int seed, const char *prov)
{
	struct dma_buf_attachment *attach;
	struct p2pmem_dev *p = edu_provider(prov);
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	dma_addr_t dma;
	u8 *want;
	int ret;

	if (!p) {
		snprintf(e->result, sizeof(e->result), "kexport FAIL no provider for %s\n", prov);
		return;
	}
	want = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
	dmabuf = want ? p2pmem_dmabuf_alloc(p, SZ_64K) : ERR_PTR(-ENOMEM);
	if (IS_ERR(dmabuf)) {
		snprintf(e->result, sizeof(e->result), "kexport FAIL alloc %ld\n", PTR_ERR(dmabuf));
		goto free;
	}
	attach = dma_buf_dynamic_attach(dmabuf, &e->pdev->dev, &edu_p2p_ops, e);
	if (IS_ERR(attach)) {
		snprintf(e->result, sizeof(e->result), "kexport refused errno=%ld\n",
			 -PTR_ERR(attach));
		goto put;
	}
	dma_resv_lock(dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	dma_resv_unlock(dmabuf->resv);
	if (IS_ERR(sgt)) {
		snprintf(e->result, sizeof(e->result), "kexport refused map errno=%ld\n",
			 -PTR_ERR(sgt));
		goto detach;
	}
	dma = sg_dma_address(sgt->sgl);
	edu_pattern(want, seed);
	ret = edu_write_pattern(e, dma, seed);
	/* back into RAM: the pattern, then a page that must be zero */
	memset(e->host, 0xff, EDU_BUF_SIZE);
	if (!ret)
		ret = edu_dma(e, dma, EDU_BUF, false);
	if (!ret)
		ret = edu_dma(e, EDU_BUF, e->host_dma, true);
	if (!ret && memcmp(e->host, want, EDU_XFER))
		ret = -EILSEQ;
	memset(e->host, 0xff, EDU_BUF_SIZE);
	memset(want, 0, EDU_BUF_SIZE);
	if (!ret)
		ret = edu_dma(e, dma + PAGE_SIZE, EDU_BUF, false);
	if (!ret)
		ret = edu_dma(e, EDU_BUF, e->host_dma, true);
	if (!ret && memcmp(e->host, want, EDU_XFER))
		ret = -ENOTEMPTY;
	if (ret)
		snprintf(e->result, sizeof(e->result),
			 "kexport FAIL %d (-84: pattern, -39: not zeroed)\n", ret);
	else
		snprintf(e->result, sizeof(e->result), "kexport ok provider=%s dma=%#llx len=%u\n",
			 p2pmem_name(p), (unsigned long long)dma, sg_dma_len(sgt->sgl));
	dma_resv_lock(dmabuf->resv, NULL);
	dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(dmabuf->resv);
detach:
	dma_buf_detach(dmabuf, attach);
put:
	dma_buf_put(dmabuf);
free:
	kfree(want);
	p2pmem_put(p);
}
#else
static void edu_release_held(struct edu *e)
{
}

static void edu_kexport(struct edu *e, unsigned int seed, const char *prov)
{
	snprintf(e->result, sizeof(e->result), "kexport FAIL no dma-buf in this kernel\n");
}

static void edu_import(struct edu *e, int fd, unsigned int seed,
		       const void *ops, bool hold)
{
	snprintf(e->result, sizeof(e->result), "%s FAIL no dma-buf in this kernel\n",
		 hold ? "hold" : "import");
}
#endif

/* The importer's operations: 0 peer2peer, 1 without, 2 pinning (7.x). */
#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
static const struct dma_buf_attach_ops *edu_ops(int kind)
{
	switch (kind) {
	case 0:
		return &edu_p2p_ops;
	case 1:
		return &edu_nop2p_ops;
#ifdef P2PMEM_HAVE_DMA_BUF_INVALIDATE
	case 2:
		return &edu_pinning_ops;
#endif
	}
	return NULL;
}
#else
static const void *edu_ops(int kind)
{
	return NULL;
}
#endif

static ssize_t edu_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	struct edu *e = file->private_data;
	char cmd[96], arg[32] = "";
	unsigned int seed = 0;
	int fd = -1, n;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = 0;
	mutex_lock(&e->lock);
	n = sscanf(cmd, "import %d %u %31s", &fd, &seed, arg);
	if (n >= 2) {
		edu_import(e, fd, seed, edu_ops(n == 3 && !strcmp(arg, "nop2p") ? 1 : 0), false);
	} else if (sscanf(cmd, "api %u %31s", &seed, arg) >= 1) {
		edu_api(e, seed, arg[0] ? arg : NULL);
	} else if (sscanf(cmd, "kexport %u %31s", &seed, arg) == 2) {
		edu_kexport(e, seed, arg);
	} else if (sscanf(cmd, "hold %d %u", &fd, &seed) == 2) {
		edu_import(e, fd, seed, edu_ops(0), true);
	} else if (sscanf(cmd, "holdpin %d %u", &fd, &seed) == 2) {
		if (edu_ops(2))
			edu_import(e, fd, seed, edu_ops(2), true);
		else
			snprintf(e->result, sizeof(e->result),
				 "holdpin FAIL before 7.x every p2p importer takes move_notify\n");
	} else if (!strncmp(cmd, "status", 6)) {
		if (!e->held)
			snprintf(e->result, sizeof(e->result), "none\n");
		else
			snprintf(e->result, sizeof(e->result), "%s\n",
				 e->revoked ? "revoked" : "held");
	} else if (!strncmp(cmd, "release", 7)) {
		edu_release_held(e);
		snprintf(e->result, sizeof(e->result), "released\n");
	} else {
		mutex_unlock(&e->lock);
		return -EINVAL;
	}
	mutex_unlock(&e->lock);
	return len;
}

static ssize_t edu_read(struct file *file, char __user *ubuf, size_t len,
			loff_t *ppos)
{
	struct edu *e = file->private_data;
	ssize_t ret;

	mutex_lock(&e->lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, e->result, strlen(e->result));
	mutex_unlock(&e->lock);
	return ret;
}

static const struct file_operations edu_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = edu_read,
	.write = edu_write,
	.llseek = default_llseek,
};

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *e;
	int ret;

	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	mutex_init(&e->lock);
	e->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	e->mmio = pcim_iomap(pdev, 0, 0);
	if (!e->mmio)
		return -ENOMEM;
	/* The rig gives edu a 64-bit DMA mask (QEMU's default is 28 bits). */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);
	e->host = dmam_alloc_coherent(&pdev->dev, EDU_BUF_SIZE, &e->host_dma, GFP_KERNEL);
	if (!e->host)
		return -ENOMEM;
	pci_set_drvdata(pdev, e);
	e->file = debugfs_create_file(pci_name(pdev), 0600, edu_dir, e, &edu_fops);
	pci_info(pdev, "p2pmem_edu: ident %#x, DMA engine ready\n",
		 readl(e->mmio + EDU_IDENT));
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *e = pci_get_drvdata(pdev);

	debugfs_remove(e->file);
	mutex_lock(&e->lock);
	edu_release_held(e);
	mutex_unlock(&e->lock);
	pci_clear_master(pdev);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "p2pmem_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

static int __init edu_init(void)
{
	int ret;

	edu_dir = debugfs_create_dir("p2pmem_edu", NULL);
	ret = pci_register_driver(&edu_driver);
	if (ret)
		debugfs_remove_recursive(edu_dir);
	return ret;
}

static void __exit edu_exit(void)
{
	pci_unregister_driver(&edu_driver);
	debugfs_remove_recursive(edu_dir);
}

module_init(edu_init);
module_exit(edu_exit);
MODULE_DESCRIPTION("p2pmem test driver for QEMU's edu DMA engine (rig only)");
MODULE_LICENSE("GPL");
