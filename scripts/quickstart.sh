#!/usr/bin/env bash
# One order from intake to settlement through the REST API, as the README's quick start walks it.
# Needs a running OrderDesk with the demo data (`make run`); API defaults to http://127.0.0.1:8000/api/v1.
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
PASSWORD=${DEMO_PASSWORD:-orderdesk-demo}
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
tok() {
  curl -sf -X POST "$API/auth/token/" -H 'Content-Type: application/json' \
       -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" | json 'd["token"]'
}
# call TOKEN METHOD PATH [BODY]: prints the answer, fails on an error status
call() {
  local out status
  out=$(curl -s -w '\n%{http_code}' -X "$2" "$API$3" -H "Authorization: Token $1" \
             -H 'Content-Type: application/json' ${4:+-d "$4"})
  status=${out##*$'\n'}; out=${out%$'\n'*}
  echo "$2 $3 → $status" >&2
  [[ $status == 2* ]] || { echo "$out" >&2; exit 1; }
  echo "$out"
}
SA=$(tok sales_assistant); SM=$(tok sales_manager); PS=$(tok production_supervisor)
LG=$(tok logistics_specialist); FI=$(tok finance_specialist)
DATE=$(date -d '+60 days' +%F); TODAY=$(date +%F)

# 1. intake (R4.1): a customer and a product from the catalogue
CUSTOMER=$(call "$SA" GET "/customers/?search=C001" | json 'd["results"][0]["id"]')
PRODUCT=$(call "$SA" GET "/products/" | json 'd["results"][0]["id"]')
ORDER=$(call "$SA" POST /orders/ "{\"customer\":$CUSTOMER,\"channel\":\"phone\",\"contact_name\":\"Li Lei\",
  \"contact_phone\":\"13800000000\",\"delivery_address\":\"Shanghai\",\"requested_delivery_date\":\"$DATE\",
  \"lines\":[{\"product\":$PRODUCT,\"specification\":\"M8 x 40\",\"quantity\":\"10\",\"unit_price\":\"12.50\"}]}")
ID=$(echo "$ORDER" | json 'd["id"]'); TOTAL=$(echo "$ORDER" | json 'd["total_amount"]')
echo "order $(echo "$ORDER" | json 'd["number"]') (id $ID), total $TOTAL" >&2
# 2. review (R4.2): the assistant's check, then the manager
call "$SA" POST "/orders/$ID/transitions/submit/" '{}' >/dev/null
call "$SM" POST "/orders/$ID/transitions/approve/" '{"comment":"credit and strategy ok"}' >/dev/null
# 3. scheduling (R4.3): a plan with a milestone and its responsible person, materials and equipment ready
WORKSHOP=$(call "$PS" GET /workshops/ | json 'd["results"][0]["id"]')
WORKER=$(call "$PS" GET "/users/?role=production_worker" | json 'd["results"][0]["id"]')
PLAN=$(call "$PS" POST /production/plans/ "{\"order\":$ID,\"workshop\":$WORKSHOP,
  \"milestones\":[{\"name\":\"machining\",\"due_date\":\"$DATE\",\"responsible\":$WORKER}]}" | json 'd["id"]')
call "$PS" PATCH "/production/plans/$PLAN/" '{"materials_ready":true,"equipment_ready":true}' >/dev/null
call "$PS" POST "/orders/$ID/transitions/schedule/" '{}' >/dev/null
call "$PS" POST "/orders/$ID/transitions/start_production/" '{}' >/dev/null
# 4. execution (R4.4): progress to 100 %, a shipment with its tracking number, shipped
call "$PS" POST /production/progress/ "{\"order\":$ID,\"percent_complete\":100,\"note\":\"done\"}" >/dev/null
call "$LG" POST /logistics/shipments/ "{\"order\":$ID,\"carrier\":\"SF Express\",\"tracking_number\":\"SF123\",
  \"expected_arrival\":\"$DATE\"}" >/dev/null
call "$LG" POST "/orders/$ID/transitions/ship/" '{}' >/dev/null
# 5. delivery and settlement (R4.5): signed receipt, invoice, payment, settled
call "$SA" POST "/orders/$ID/transitions/accept/" "{\"signed_by\":\"Wang\",\"signed_on\":\"$TODAY\",
  \"receipt_reference\":\"RCPT-1\"}" >/dev/null
INVOICE=$(call "$FI" POST /finance/invoices/ "{\"order\":$ID,\"amount\":\"$TOTAL\",\"due_date\":\"$DATE\"}" | json 'd["id"]')
call "$FI" POST /finance/payments/ "{\"invoice\":$INVOICE,\"amount\":\"$TOTAL\",\"received_on\":\"$TODAY\",
  \"reference\":\"BANK-1\"}" >/dev/null
STATE=$(call "$FI" POST "/orders/$ID/transitions/settle/" '{}' | json 'd["state"]')
echo "order $ID is $STATE; its history, oldest first:" >&2
call "$SA" GET "/orders/$ID/history/" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print(e["at"][:19], (e["by"] or "").ljust(22), e.get("transition") or "changed " + e.get("field", ""))'
