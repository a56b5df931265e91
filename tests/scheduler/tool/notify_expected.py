# Lists every notify rsc_op of Pacemaker's expected graphs: case, key, node, CRM_meta_notify_* pairs.
import sys, glob, os, xml.etree.ElementTree as ET
out = []
for path in sorted(glob.glob(sys.argv[1] + '/*.exp')):
    case = os.path.basename(path)[:-4]
    root = ET.parse(path).getroot()
    for op in root.iter('rsc_op'):
        if op.get('operation') != 'notify': continue
        attrs = op.find('attributes')
        if attrs is None: continue
        pairs = sorted((k[len('CRM_meta_'):], v) for k, v in attrs.attrib.items() if k.startswith('CRM_meta_notify_'))
        out.append('\t'.join([case, op.get('operation_key'), op.get('on_node')] + ['%s=%s' % kv for kv in pairs]))
for line in sorted(set(out)): print(line)
