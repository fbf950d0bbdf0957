// pim_mac: the MAC unit of one DRAM bank (AiM / PIM-GPT style), driven by the PIM commands.
//
// Each MAC command brings one 32 B burst: LANES BF16 weights w (the bank's column) and LANES BF16
// inputs x (the global-buffer entry). Three pipeline stages (mac_pipeline_cycles = 3 in the
// dram_pim presets):
//   stage 1: the LANES products w_i * x_i as FP32 (exact: 8-bit x 8-bit significands)
//   stage 2: their sum by a pairwise adder tree, FP32 round-to-nearest-even at every adder
//   stage 3: acc + sum (RNE); with `last` (the burst completes an output) the total goes to the
//            result register (out_valid = 1) and acc restarts at +0
// RD (read-out, RDMAC) moves the result register to dout (rd_valid for one cycle) and frees it.
// A new result arriving while the register is full and not being read sets `overrun` (sticky):
// the controller's timing rule (one result register per unit) never lets that happen.
// Floating point: BF16 / FP32 without subnormals (inputs with a zero exponent read as zero, results
// below 2^-126 flush to zero, sign kept), no infinities or NaNs in the inputs; overflow gives
// infinity. Python model: archsim/hw/dram_pim/unit.py (PimMacUnit).
`default_nettype none

module pim_mac #(
    parameter integer LANES  = 16,  // BF16 lanes (a power of two, >= 2)
    parameter integer BROKEN = 0    // 1: tree adders truncate instead of rounding; 2: acc not cleared after `last`
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [1:0]            cmd,       // 0 NOP, 1 MAC, 2 RD
    input  wire                  last,      // with MAC: the burst completes an output
    input  wire [16*LANES-1:0]   w,         // BF16 lane i at [16i +: 16]
    input  wire [16*LANES-1:0]   x,
    output reg                   out_valid,
    output reg  [31:0]           out,
    output reg                   rd_valid,
    output reg  [31:0]           dout,
    output reg                   overrun,
    output reg                   dbg_s1_valid,
    output reg                   dbg_s1_last,
    output reg  [32*LANES-1:0]   dbg_prod,
    output reg                   dbg_s2_valid,
    output reg                   dbg_s2_last,
    output reg  [31:0]           dbg_sum,
    output reg  [31:0]           dbg_acc
);

    // -- BF16 x BF16 -> FP32 (exact: a 16-bit significand), subnormal inputs as zero ------------
    function automatic [31:0] fmul(input [15:0] a, input [15:0] b);
        reg        s;
        reg [7:0]  ea, eb;
        reg [15:0] m;
        reg signed [10:0] e;
        begin
            s  = a[15] ^ b[15];
            ea = a[14:7];
            eb = b[14:7];
            m  = {1'b1, a[6:0]} * {1'b1, b[6:0]};
            e  = $signed({3'b000, ea}) + $signed({3'b000, eb}) - 11'sd127;
            if (ea == 8'd0 || eb == 8'd0) begin
                fmul = {s, 31'd0};
            end else begin
                if (m[15])                     // 1.a * 1.b in [2, 4): 15 fraction bits
                    e = e + 11'sd1;
                if (e <= 11'sd0)
                    fmul = {s, 31'd0};
                else if (e >= 11'sd255)
                    fmul = {s, 8'hff, 23'd0};
                else if (m[15])
                    fmul = {s, e[7:0], m[14:0], 8'd0};
                else
                    fmul = {s, e[7:0], m[13:0], 9'd0};
            end
        end
    endfunction

    // -- FP32 + FP32, round to nearest even (truncate when `trunc`), no subnormals -------------
    function automatic [31:0] fadd(input [31:0] a, input [31:0] b, input trunc);
        reg        sa, sb, sr;
        reg [7:0]  ea, eb;
        reg [31:0] hi, lo;
        reg [26:0] mx, my;
        reg [27:0] sum;
        reg [7:0]  d;
        reg signed [9:0] ex;
        reg [24:0] rnd;
        reg [4:0]  lzc;
        reg        found;
        integer    k;
        begin
            ea = a[30:23];
            eb = b[30:23];
            if (ea == 8'd0 && eb == 8'd0) begin
                fadd = {a[31] & b[31], 31'd0};
            end else if (ea == 8'd0) begin
                fadd = b;
            end else if (eb == 8'd0) begin
                fadd = a;
            end else begin
                if (a[30:0] < b[30:0]) begin
                    hi = b; lo = a;
                end else begin
                    hi = a; lo = b;
                end
                sa = hi[31];
                sb = lo[31];
                sr = sa;
                d  = hi[30:23] - lo[30:23];
                mx = {1'b1, hi[22:0], 3'b000};
                my = {1'b1, lo[22:0], 3'b000};
                // align with a sticky bit
                if (d >= 8'd27) begin
                    my = 27'd1;
                end else begin
                    for (k = 0; k < 27; k = k + 1)
                        if (k < d)
                            my = {1'b0, my[26:2], my[1] | my[0]};
                end
                ex = $signed({2'b00, hi[30:23]});
                if (sa == sb) begin
                    sum = {1'b0, mx} + {1'b0, my};
                    if (sum[27]) begin
                        sum = {1'b0, sum[27:2], sum[1] | sum[0]};
                        ex = ex + 10'sd1;
                    end
                end else begin
                    sum = {1'b0, mx} - {1'b0, my};
                    lzc = 5'd0;                         // leading zeros below bit 27
                    found = 1'b0;
                    for (k = 26; k >= 0; k = k - 1)
                        if (!found) begin
                            if (sum[k])
                                found = 1'b1;
                            else
                                lzc = lzc + 5'd1;
                        end
                    sum = sum << lzc;
                    ex = ex - $signed({5'b00000, lzc});
                end
                if (sum[26:0] == 27'd0) begin
                    fadd = 32'd0;                       // exact cancellation: +0
                end else begin
                    rnd = {1'b0, sum[26:3]};
                    if (!trunc && sum[2] && (sum[1] | sum[0] | sum[3]))
                        rnd = rnd + 25'd1;
                    if (rnd[24]) begin
                        rnd = rnd >> 1;
                        ex = ex + 10'sd1;
                    end
                    if (ex <= 10'sd0)
                        fadd = {sr, 31'd0};             // flush to zero
                    else if (ex >= 10'sd255)
                        fadd = {sr, 8'hff, 23'd0};
                    else
                        fadd = {sr, ex[7:0], rnd[22:0]};
                end
            end
        end
    endfunction

    // -- stage 2: the pairwise adder tree over the registered products ---------------------------
    reg [31:0] tree [0:2*LANES-2];
    integer i;
    always @* begin
        for (i = 0; i < LANES; i = i + 1)
            tree[LANES - 1 + i] = dbg_prod[32*i +: 32];
        for (i = LANES - 2; i >= 0; i = i - 1)
            tree[i] = fadd(tree[2*i + 1], tree[2*i + 2], BROKEN == 1);
    end

    wire [31:0] total = fadd(dbg_acc, dbg_sum, 1'b0);
    wire        rd    = (cmd == 2'd2);
    wire        wr    = dbg_s2_valid && dbg_s2_last;

    integer l;
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0; out <= 32'd0; rd_valid <= 1'b0; dout <= 32'd0; overrun <= 1'b0;
            dbg_s1_valid <= 1'b0; dbg_s1_last <= 1'b0; dbg_prod <= {32*LANES{1'b0}};
            dbg_s2_valid <= 1'b0; dbg_s2_last <= 1'b0; dbg_sum <= 32'd0; dbg_acc <= 32'd0;
        end else begin
            // stage 1
            dbg_s1_valid <= (cmd == 2'd1);
            dbg_s1_last <= (cmd == 2'd1) && last;
            if (cmd == 2'd1)
                for (l = 0; l < LANES; l = l + 1)
                    dbg_prod[32*l +: 32] <= fmul(w[16*l +: 16], x[16*l +: 16]);
            // stage 2
            dbg_s2_valid <= dbg_s1_valid;
            dbg_s2_last <= dbg_s1_last;
            if (dbg_s1_valid)
                dbg_sum <= tree[0];
            // stage 3 and the result register
            if (dbg_s2_valid) begin
                if (dbg_s2_last) begin
                    out <= total;
                    dbg_acc <= (BROKEN == 2) ? total : 32'd0;
                end else begin
                    dbg_acc <= total;
                end
            end
            rd_valid <= rd && out_valid;
            if (rd && out_valid)
                dout <= out;
            if (wr)
                out_valid <= 1'b1;
            else if (rd)
                out_valid <= 1'b0;
            if (wr && out_valid && !rd)
                overrun <= 1'b1;
        end
    end
endmodule

`default_nettype wire
