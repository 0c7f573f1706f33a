// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The virtio-net header of IFF_VNET_HDR: on write it tells the stack that a
 * packet still needs its checksum or is a GSO super-packet; on read it tells
 * the application the same of what the stack handed us. TUNSETOFFLOAD
 * decides which of those the stack may hand us at all.
 *
 * Everything in a written header comes from userspace and is checked here
 * before the kernel's helper trusts it.
 */
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>

#include "ktun.h"

/* The offload features an application can turn on through TUNSETOFFLOAD. */
#define KTUN_USER_FEATURES	(NETIF_F_HW_CSUM | NETIF_F_TSO | \
				 NETIF_F_TSO6 | NETIF_F_TSO_ECN | \
				 KTUN_NETIF_F_USO)

/* Under rtnl. Unknown bits fail with EINVAL so programs can probe. */
int ktun_vnet_set_offload(struct ktun_dev *kdev, unsigned long arg)
{
	struct net_device *dev = kdev->dev;
	netdev_features_t features = 0;

	ASSERT_RTNL();
	if (arg & ~(unsigned long)KTUN_F_ALL)
		return -EINVAL;
	if (arg & TUN_F_CSUM) {
		features |= NETIF_F_HW_CSUM;
		if (arg & TUN_F_TSO4)
			features |= NETIF_F_TSO;
		if (arg & TUN_F_TSO6)
			features |= NETIF_F_TSO6;
		if ((arg & TUN_F_TSO_ECN) && (arg & (TUN_F_TSO4 | TUN_F_TSO6)))
			features |= NETIF_F_TSO_ECN;
		else if (arg & TUN_F_TSO_ECN)
			return -EINVAL;
		/* USO4 and USO6 only together, as stock: one feature covers both. */
		if (KTUN_HAVE_USO && (arg & KTUN_F_USO) == KTUN_F_USO)
			features |= KTUN_NETIF_F_USO;
		else if (arg & KTUN_F_USO)
			return -EINVAL;
	} else if (arg) {
		/* Segmentation offloads need checksum offload (stock rule). */
		return -EINVAL;
	}

	kdev->offload_features = features;
	dev->hw_features |= KTUN_USER_FEATURES;
	dev->wanted_features = (dev->wanted_features & ~KTUN_USER_FEATURES) |
			       features;
	netdev_update_features(dev);
	return 0;
}

/*
 * ndo_fix_features: offloads only as the application asked for them, and
 * none at all while its files carry no virtio-net header to describe them.
 */
netdev_features_t ktun_vnet_fix_features(struct ktun_dev *kdev,
					 netdev_features_t features)
{
	netdev_features_t allowed = kdev->offload_features;

	if (!(kdev->flags & IFF_VNET_HDR))
		allowed = 0;
	return (features & ~KTUN_USER_FEATURES) | (features & allowed);
}

/*
 * Reads and checks the header at the front of a write; *len is the rest of
 * the write and shrinks by the header. A hdr_len, when given, must cover
 * @min_hdr_len (the Ethernet header of a TAP frame). Returns 0 or -errno.
 */
int ktun_vnet_parse(struct iov_iter *from, size_t *len, int hdr_sz,
		    bool le, unsigned int min_hdr_len, struct virtio_net_hdr *hdr)
{
	u16 hdr_len, csum_start, csum_off, gso_size;
	u8 gso;

	if (*len < (size_t)hdr_sz)
		return -EINVAL;
	if (!copy_from_iter_full(hdr, sizeof(*hdr), from))
		return -EFAULT;
	iov_iter_advance(from, hdr_sz - sizeof(*hdr));
	*len -= hdr_sz;

	gso = hdr->gso_type;
	hdr_len = __virtio16_to_cpu(le, hdr->hdr_len);
	csum_start = __virtio16_to_cpu(le, hdr->csum_start);
	csum_off = __virtio16_to_cpu(le, hdr->csum_offset);
	gso_size = __virtio16_to_cpu(le, hdr->gso_size);

	if (hdr->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			   VIRTIO_NET_HDR_F_DATA_VALID))
		return -EINVAL;
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (gso & VIRTIO_NET_HDR_GSO_ECN)
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
	case VIRTIO_NET_HDR_GSO_UDP:
		/* A gso_size above the payload is a plain packet, as stock. */
		if (!gso_size)
			return -EINVAL;
		/* Where the transport header starts must be said, not left to
		 * the flow-dissector fallback of virtio_net_hdr_to_skb().
		 */
		if (!(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return -EINVAL;
		break;
	case KTUN_GSO_UDP_L4:
		/*
		 * Only where the core's helper knows it (compat.h). It has no
		 * ECN, and the core segments it from a partial checksum.
		 */
		if (!KTUN_HAVE_USO || (gso & VIRTIO_NET_HDR_GSO_ECN) ||
		    !gso_size || !(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* The checksum field must lie inside the packet... */
		if ((u32)csum_start + csum_off + sizeof(__sum16) > *len)
			return -EINVAL;
		/* ...and in the part announced as headers, as stock widens it. */
		if ((u32)csum_start + csum_off + sizeof(__sum16) > hdr_len)
			hdr->hdr_len = __cpu_to_virtio16(le, csum_start + csum_off +
							 sizeof(__sum16));
	}
	hdr_len = __virtio16_to_cpu(le, hdr->hdr_len);
	if (hdr_len > *len || (hdr_len && hdr_len < min_hdr_len))
		return -EINVAL;
	return 0;
}

/*
 * Applies a checked header to a written skb whose data starts at the frame
 * (TAP) or IP header (TUN), with skb->dev set. BHs off.
 */
int ktun_vnet_apply(struct sk_buff *skb, const struct virtio_net_hdr *hdr,
		    bool le)
{
	if (hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	    !(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	return virtio_net_hdr_to_skb(skb, hdr, le);
}

/* Writes the header describing @skb in front of a read. */
int ktun_vnet_emit(struct iov_iter *to, const struct sk_buff *skb,
		   int hdr_sz, bool le)
{
	struct virtio_net_hdr hdr;

	if (iov_iter_count(to) < (size_t)hdr_sz)
		return -EINVAL;
	/* Only the types our features let in can arrive; anything else was
	 * not ours to describe, and is dropped rather than mislabelled.
	 */
	if (virtio_net_hdr_from_skb(skb, &hdr, le, true, 0))
		return -EINVAL;
	if (copy_to_iter(&hdr, sizeof(hdr), to) != sizeof(hdr))
		return -EFAULT;
	iov_iter_advance(to, hdr_sz - sizeof(hdr));
	return 0;
}
