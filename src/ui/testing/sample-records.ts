/**
 * Records for the UI tests. The conn, dns and alert records are real: lines of
 * `loopy read --json samples/demo.pcap` (the `npm start` sample: synth seed 1, 20000 packets, incidents
 * port_scan,dns_tunnel,nxdomain_burst), with long lists shortened. Stats seconds are built by `statsSecond`
 * with the numbers a test wants to see.
 */
import type { AlertRecord, ConnRecord, DnsRecord } from '../../analyze/records.js';
import type { LiveEvent } from '../../client/agent-client.js';
import type { StatsSecond } from '../../stats/stats-record.js';

export const T0 = 1718000000;

export const CONN_TLS: ConnRecord = {"type":"conn","_path":"conn","ts":1718000000.011619,"uid":"ChdzBZ1GJs29gAm8NI","id.orig_h":"192.168.10.22","id.orig_p":51721,"id.resp_h":"203.0.113.10","id.resp_p":443,"proto":"tcp","community_id":"1:LtLIP4YrsBmZCFiMSNg6wcFXNGw=","duration":0.248223,"orig_bytes":600,"resp_bytes":8228,"conn_state":"SF","history":"ShADdFf","orig_pkts":10,"orig_ip_bytes":1128,"resp_pkts":9,"resp_ip_bytes":8704,"orig_retrans":0,"resp_retrans":0,"orig_ooo":0,"resp_ooo":0,"service":"ssl","rtt":0.018106};

export const CONN_REJ: ConnRecord = {"type":"conn","_path":"conn","ts":1718000000.217987,"uid":"CEqDpNw4XXYJhLHNFJ","id.orig_h":"192.168.10.23","id.orig_p":53999,"id.resp_h":"198.51.100.27","id.resp_p":443,"proto":"tcp","community_id":"1:TZP0lt35OORm2XopUCg6tH9a1BQ=","duration":0.007457,"orig_bytes":0,"resp_bytes":0,"conn_state":"REJ","history":"Sr","orig_pkts":1,"orig_ip_bytes":60,"resp_pkts":1,"resp_ip_bytes":40,"orig_retrans":0,"resp_retrans":0,"orig_ooo":0,"resp_ooo":0};

export const DNS_NX: DnsRecord = {"type":"dns","_path":"dns","ts":1718000000.054135,"uid":"CTOfscPdARMj4Jo34j","id.orig_h":"192.168.10.20","id.orig_p":49452,"id.resp_h":"192.168.10.1","id.resp_p":53,"proto":"udp","trans_id":8821,"AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"rejected":false,"rtt":0.061441,"query":"wwww.example.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":3,"rcode_name":"NXDOMAIN"};

export const DNS_OK: DnsRecord = {"type":"dns","_path":"dns","ts":1718000000.00149,"uid":"CK1OCVRxxYRFLOTHyW","id.orig_h":"192.168.10.22","id.orig_p":51719,"id.resp_h":"192.168.10.1","id.resp_p":53,"proto":"udp","trans_id":61117,"AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"rejected":false,"rtt":0.000255,"query":"maps.example.org","qclass":1,"qclass_name":"C_INTERNET","qtype":28,"qtype_name":"AAAA","rcode":0,"rcode_name":"NOERROR","answers":["d2.cdn.example.org","2001:db8:100::22"],"TTLs":[3600,63]};

export const ALERT_SCAN: AlertRecord = {"type":"alert","_path":"notice","ts":1718000002.000496,"alert_id":"AVGo6oKnmKqf7yTsdn","state":"open","state_ts":1718000002.000496,"detector":"port_scan","severity":"medium","message":"192.168.10.250 scanned 100 TCP ports on 192.168.20.10 in 0.3 s","evidence":{"counters":{"distinct_ports":100,"hosts_scanned":1,"probes":100,"refused":100,"unanswered":0,"half_open":0,"connected_empty":0},"thresholds":{"distinct_ports":100},"hosts":["192.168.10.250","192.168.20.10"],"first_seen":1718000001.671446,"last_seen":1718000002.000496,"window":60,"tcp_ports":100,"udp_ports":0,"ports":[3,7,11,17,24]},"community_ids":["1:wKaK4VfuPy4HrF3DLxp7ltY/l+M="],"src":"192.168.10.250","dst":"192.168.20.10"};

export const ALERT_TUNNEL: AlertRecord = {"type":"alert","_path":"notice","ts":1718000004.554554,"alert_id":"ATkkVvf0J6iyg5ak5q","state":"open","state_ts":1718000004.554554,"detector":"dns_tunnel","severity":"high","message":"192.168.10.251 sent 30 queries with encoded-looking names under example.net (30 TXT; 3026 bytes of subdomains) in 0.1 s","evidence":{"counters":{"encoded_names":30,"unusual_type_names":30,"queries":30,"subdomain_bytes":3026},"thresholds":{"encoded_names":30,"unusual_type_names":100},"hosts":["192.168.10.251","192.168.10.1"],"first_seen":1718000004.424683,"last_seen":1718000004.554554,"window":60,"domain":"example.net","names":["example.net"]},"community_ids":[],"src":"192.168.10.251","dst":"192.168.10.1"};

/** A stats second with everything zero but what `fields` sets. */
export function statsSecond(ts: number, fields: Partial<StatsSecond> = {}): StatsSecond {
  return {
    type: 'stats', ts, duration: 1, packets: 0, bytes: 0, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0,
    interfaces: [], protocols: {}, top_talkers: [], flows_active: 0, flows_opened: 0, flows_closed: 0,
    dns: { queries: 0, answers: 0, rcodes: {} }, weirds: {}, cpu_percent: 0, rss_bytes: 0,
    ...fields,
  };
}

export const stats = (record: StatsSecond): LiveEvent => ({ topic: 'stats', record, missed: 0 });
export const flow = (record: ConnRecord): LiveEvent => ({ topic: 'flows', record, missed: 0 });
export const dns = (record: DnsRecord): LiveEvent => ({ topic: 'dns', record, missed: 0 });
export const alert = (record: AlertRecord): LiveEvent => ({ topic: 'alerts', record: record as never, missed: 0 });
