// bitserial_pe: one BitMoD bit-serial processing element (Chen et al., HPCA 2025, §IV-B, Fig. 5).
//
// Each cycle: LANES FP16 activations x LANES weight bit-terms (sign, 2-bit exp, 1-bit man) with a
// shared significance bsig (-1..6). Pipeline (one register stage each):
//   1 align      r1_sign = sign(act) ^ t_sign; r1_man = significand (hidden one; 0 when t_man = 0);
//                r1_shift = max(E, 1) + t_exp + bsig + 1
//   2 tree       r2_sum = sum over lanes of +/-(r1_man << r1_shift)   (units of 2^-26, exact)
//   3 accumulate acc += r2_sum; on a group's last beat the total goes to the dequantizer
//   4 dequantize dq_acc += (dq_s[i] ? dq_p << i : 0), i = 0..SCALE_BITS-1, one bit per cycle;
//                out_value = dq_p * dq_s registered with out_valid for one cycle
// ready = 0 while a finished group waits for the dequantizer (it takes one every SCALE_BITS
// cycles); the pipeline then holds and the input is not taken. DEQUANT = 0: no dequantizer, the
// group total itself is registered on the output.
// Python model: archsim/hw/bitserial/pe.py (BitSerialPEPorts over BitSerialPEModel).
`default_nettype none

module bitserial_pe #(
    parameter integer LANES      = 4,
    parameter integer SCALE_BITS = 8,
    parameter integer DEQUANT    = 1,
    parameter integer BROKEN     = 0   // 1: lane LANES-1 ignores its term's sign; 2: the dequantizer
                                       //    is taken one cycle too early
) (
    input  wire                              clk,
    input  wire                              rst,
    input  wire                              in_valid,
    input  wire [LANES*16-1:0]               act,
    input  wire [LANES-1:0]                  t_sign,
    input  wire [LANES*2-1:0]                t_exp,
    input  wire [LANES-1:0]                  t_man,
    input  wire signed [3:0]                 bsig,
    input  wire                              group_end,
    input  wire [SCALE_BITS-1:0]             scale,
    output wire                              ready,
    output reg                               out_valid,
    output reg  signed [64+SCALE_BITS-1:0]   out_value,
    output reg                               dbg_r1_valid,
    output reg                               dbg_r1_end,
    output reg  [LANES-1:0]                  dbg_r1_sign,
    output reg  [LANES*11-1:0]               dbg_r1_man,
    output reg  [LANES*6-1:0]                dbg_r1_shift,
    output reg  [SCALE_BITS-1:0]             dbg_r1_scale,
    output reg                               dbg_r2_valid,
    output reg                               dbg_r2_end,
    output reg  signed [63:0]                dbg_r2_sum,
    output reg  [SCALE_BITS-1:0]             dbg_r2_scale,
    output reg  signed [63:0]                dbg_acc,
    output reg  [7:0]                        dbg_dq_cnt,
    output reg  signed [63:0]                dbg_dq_p,
    output reg  [SCALE_BITS-1:0]             dbg_dq_s,
    output reg  signed [64+SCALE_BITS-1:0]   dbg_dq_acc
);
    localparam integer OUT_W = 64 + SCALE_BITS;

    // back-pressure: a finished group in stage 3 and a dequantizer with more than its last bit to go
    wire stall = (DEQUANT != 0) && dbg_r2_valid && dbg_r2_end &&
                 ((BROKEN == 2) ? (dbg_dq_cnt > 8'd2) : (dbg_dq_cnt > 8'd1));
    assign ready = ~stall;

    // stage 1: align (combinational part)
    reg [LANES-1:0]    s1_sign;
    reg [LANES*11-1:0] s1_man;
    reg [LANES*6-1:0]  s1_shift;
    reg [4:0]          e;
    integer l;
    always @* begin
        s1_sign = {LANES{1'b0}};
        s1_man = {(LANES*11){1'b0}};
        s1_shift = {(LANES*6){1'b0}};
        for (l = 0; l < LANES; l = l + 1) begin
            e = act[l*16+10 +: 5];
            if (BROKEN == 1 && l == LANES - 1)
                s1_sign[l] = act[l*16+15];
            else
                s1_sign[l] = act[l*16+15] ^ t_sign[l];
            s1_man[l*11 +: 11] = t_man[l] ? {(e != 5'd0), act[l*16 +: 10]} : 11'd0;
            // modulo-64 sum with bsig sign-extended: the true shift is 1..38
            s1_shift[l*6 +: 6] = {1'b0, (e == 5'd0) ? 5'd1 : e} + {4'b0000, t_exp[l*2 +: 2]}
                                 + {{2{bsig[3]}}, bsig} + 6'd1;
        end
    end

    // stage 2: shifted significands through the adder tree
    reg signed [63:0] tree;
    reg [63:0]        mag;
    integer t;
    always @* begin
        tree = 64'sd0;
        for (t = 0; t < LANES; t = t + 1) begin
            mag = {53'd0, dbg_r1_man[t*11 +: 11]} << dbg_r1_shift[t*6 +: 6];
            tree = dbg_r1_sign[t] ? tree - $signed(mag) : tree + $signed(mag);
        end
    end

    // stage 3 and the dequantizer
    wire signed [63:0]    total  = dbg_acc + dbg_r2_sum;
    wire [7:0]            dq_i   = SCALE_BITS[7:0] - dbg_dq_cnt;
    wire signed [OUT_W-1:0] dq_px = {{SCALE_BITS{dbg_dq_p[63]}}, dbg_dq_p};
    wire                  dq_bit = dbg_dq_s[dq_i[$clog2(SCALE_BITS)-1:0]];
    wire signed [OUT_W-1:0] dq_next = dbg_dq_acc + (dq_bit ? (dq_px <<< dq_i) : {OUT_W{1'b0}});

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0; out_value <= {OUT_W{1'b0}};
            dbg_r1_valid <= 1'b0; dbg_r1_end <= 1'b0; dbg_r1_sign <= {LANES{1'b0}};
            dbg_r1_man <= {(LANES*11){1'b0}}; dbg_r1_shift <= {(LANES*6){1'b0}}; dbg_r1_scale <= {SCALE_BITS{1'b0}};
            dbg_r2_valid <= 1'b0; dbg_r2_end <= 1'b0; dbg_r2_sum <= 64'sd0; dbg_r2_scale <= {SCALE_BITS{1'b0}};
            dbg_acc <= 64'sd0; dbg_dq_cnt <= 8'd0; dbg_dq_p <= 64'sd0; dbg_dq_s <= {SCALE_BITS{1'b0}};
            dbg_dq_acc <= {OUT_W{1'b0}};
        end else begin
            out_valid <= 1'b0;
            // dequantizer: one scale bit per cycle, LSB first
            if (dbg_dq_cnt != 8'd0) begin
                dbg_dq_acc <= dq_next;
                dbg_dq_cnt <= dbg_dq_cnt - 8'd1;
                if (dbg_dq_cnt == 8'd1) begin
                    out_valid <= 1'b1;
                    out_value <= dq_next;
                end
            end
            if (!stall) begin
                // stage 3: accumulate; a group's last beat hands its total over
                if (dbg_r2_valid) begin
                    if (dbg_r2_end) begin
                        if (DEQUANT != 0) begin
                            dbg_dq_p <= total;
                            dbg_dq_s <= dbg_r2_scale;
                            dbg_dq_acc <= {OUT_W{1'b0}};
                            dbg_dq_cnt <= SCALE_BITS[7:0];
                        end else begin
                            out_valid <= 1'b1;
                            out_value <= {{SCALE_BITS{total[63]}}, total};
                        end
                        dbg_acc <= 64'sd0;
                    end else begin
                        dbg_acc <= total;
                    end
                end
                // stage 2
                dbg_r2_valid <= dbg_r1_valid;
                dbg_r2_end <= dbg_r1_end;
                if (dbg_r1_valid) begin
                    dbg_r2_sum <= tree;
                    dbg_r2_scale <= dbg_r1_scale;
                end
                // stage 1
                dbg_r1_valid <= in_valid;
                dbg_r1_end <= in_valid & group_end;
                if (in_valid) begin
                    dbg_r1_sign <= s1_sign;
                    dbg_r1_man <= s1_man;
                    dbg_r1_shift <= s1_shift;
                    dbg_r1_scale <= scale;
                end
            end
        end
    end
endmodule

`default_nettype wire
