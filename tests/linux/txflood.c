/* txflood IFACE: send minimal broadcast Ethernet frames on IFACE as fast
 * as the kernel takes them, until killed.  The guest's transmit flood for
 * the virtio_net kselftest: an AF_PACKET socket needs no address, no ARP
 * and no peer, so the only thing that holds it back is the driver's
 * ring.  Built static for the test initramfs. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int
main(int argc, char *argv[])
{
    struct sockaddr_ll sll;
    unsigned char frame[60];
    unsigned int ifindex;
    int fd;

    if (argc != 2) {
        fprintf(stderr, "usage: txflood IFACE\n");
        return 2;
    }
    ifindex = if_nametoindex(argv[1]);
    if (!ifindex) {
        fprintf(stderr, "txflood: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        fprintf(stderr, "txflood: socket: %s\n", strerror(errno));
        return 1;
    }

    /* broadcast, from a locally administered address, an experimental
     * EtherType (0x88b5) nobody parses */
    memset(frame, 0, sizeof frame);
    memset(frame, 0xff, 6);
    memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;

    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex;
    sll.sll_halen = 6;
    memset(sll.sll_addr, 0xff, 6);

    for (;;) {
        /* ENOBUFS when the qdisc is full behind a stopped queue: go on */
        if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *) &sll,
                   sizeof sll) < 0 && errno != ENOBUFS && errno != EAGAIN) {
            fprintf(stderr, "txflood: sendto: %s\n", strerror(errno));
            return 1;
        }
    }
}
